/**
 * Reads a `/v1/audio/transcriptions` or `/v1/audio/translations` request: multipart/form-data with the audio
 * in `file` and the model in `model`, parsed with the platform's own multipart reader (undici's `formData()`).
 */
import type { IncomingMessage } from 'node:http';
import { readBody } from './http-io.js';
import { badRequest } from './vllm-error.js';

/** What vLLM answers: a transcript in JSON, plain or verbose (srt and vtt it refuses). */
export type AudioResponseFormat = 'json' | 'text' | 'verbose_json';

export interface AudioRequest {
  readonly model: string;
  readonly audio: Buffer;
  readonly responseFormat: AudioResponseFormat;
  /** ISO-639-1 code of the spoken language, when the client gave one. */
  readonly language: string | null;
  /** Text to guide the model; it is the prompt the engine prefills. */
  readonly prompt: string;
  /** SSE chunks (`transcription.chunk` / `translation.chunk`) instead of one JSON body. */
  readonly stream: boolean;
  /** vLLM's flattened stream options (a form has no objects): a usage chunk at the end, usage on every chunk. */
  readonly includeUsage: boolean;
  readonly continuousUsage: boolean;
}

/** OpenAI accepts files up to 25 MB; a little more leaves room for the form around it. */
export const MAX_AUDIO_BODY_BYTES = 32 * 1024 * 1024;

/** A text field; the last of several, as vLLM's form parser (Starlette's) keeps it, where FormData.get keeps the first. */
function field(form: FormData, name: string): string | null {
  const v = form.getAll(name).at(-1);
  return typeof v === 'string' ? v : null;
}

/** The spellings of a form boolean pydantic accepts, as vLLM parses `stream` and its options. */
const TRUE = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE = new Set(['0', 'off', 'f', 'false', 'n', 'no']);

function booleanField(form: FormData, name: string): boolean {
  const v = field(form, name);
  if (v === null) return false;
  const lower = v.trim().toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  throw badRequest(`\`${name}\` must be a boolean (true or false), got "${v.length > 40 ? `${v.slice(0, 40)}...` : v}"`, name);
}

/** `stream` and vLLM's `stream_include_usage` / `stream_continuous_usage_stats`, refused without `stream` as vLLM refuses them. */
function streamOptionsOf(form: FormData): Pick<AudioRequest, 'stream' | 'includeUsage' | 'continuousUsage'> {
  const stream = booleanField(form, 'stream');
  const includeUsage = booleanField(form, 'stream_include_usage');
  const continuous = booleanField(form, 'stream_continuous_usage_stats');
  if (!stream && (includeUsage || continuous)) {
    throw badRequest('Stream options can only be defined when `stream=True`.', includeUsage ? 'stream_include_usage' : 'stream_continuous_usage_stats');
  }
  // As vLLM: usage on every chunk only when the final usage chunk is asked for too.
  return { stream, includeUsage, continuousUsage: includeUsage && continuous };
}

function responseFormatOf(form: FormData): AudioResponseFormat {
  const v = field(form, 'response_format') ?? 'json';
  if (v === 'json' || v === 'text' || v === 'verbose_json') return v;
  // vLLM's own message for srt and vtt (speech_to_text.py); anything else is not a format at all.
  const message = v === 'srt' || v === 'vtt' ? 'Currently only support response_format `text`, `json` or `verbose_json`' : `\`response_format\` must be json, text or verbose_json, got "${v}"`;
  throw badRequest(message, 'response_format');
}

/** Reads and validates the form; a 400 naming what is missing or wrong, a 413 past MAX_AUDIO_BODY_BYTES. */
export async function readAudioRequest(req: IncomingMessage): Promise<AudioRequest> {
  const contentType = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\s*;/i.test(contentType)) {
    req.resume();
    throw badRequest(
      `send multipart/form-data with the audio in a \`file\` field and the model in a \`model\` field; got content-type "${contentType}"`,
    );
  }
  const body = await readBody(req, MAX_AUDIO_BODY_BYTES);
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch (err) {
    throw badRequest(`the multipart/form-data body could not be read: ${(err as Error).message}`);
  }
  const file = form.getAll('file').at(-1) ?? null;
  if (file === null || typeof file === 'string') {
    throw badRequest('`file` is required: the audio file, as a file part of the form (not a plain field)', 'file');
  }
  const model = field(form, 'model');
  if (model === null || model === '') throw badRequest('`model` is required: a form field naming the model', 'model');
  const streamOptions = streamOptionsOf(form);
  return {
    ...streamOptions,
    model,
    audio: Buffer.from(await file.arrayBuffer()),
    responseFormat: responseFormatOf(form),
    language: field(form, 'language'),
    prompt: field(form, 'prompt') ?? '',
  };
}
