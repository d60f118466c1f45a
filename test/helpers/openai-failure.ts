/** What a request the openai client sends, and that must fail, failed with. */
import OpenAI from 'openai';

/** The answer's status and headers, and the OpenAI error's code and message. */
export interface OpenAIFailure {
  status: number | undefined;
  code: unknown;
  message: string;
  headers: Headers | undefined;
}

/** Awaits `p`, a call of the openai client; throws if it succeeds or fails with anything but an APIError. */
export async function failure(p: Promise<unknown>): Promise<OpenAIFailure> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OpenAI.APIError) return { status: e.status, code: e.code, message: e.message, headers: e.headers };
    throw e;
  }
  throw new Error('the request succeeded');
}
