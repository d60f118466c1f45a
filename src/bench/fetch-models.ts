/** Asks an OpenAI-compatible server what it serves: the ids of `GET /v1/models`. */
import { request } from 'undici';

/** `GET /v1/models` answered, but not 200: `status` lets a caller say what to do (401: a key is wanted). */
export class ModelsListError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * The model ids listed at `baseUrl` + `/v1/models` (bases and adapters alike); throws with the reason otherwise.
 * `apiKey` goes as `Authorization: Bearer`, which vLLM's `--api-key` wants on `/v1/models` too.
 */
export async function fetchModelIds(baseUrl: string, timeoutMs = 5000, apiKey?: string): Promise<string[]> {
  const url = `${baseUrl.replace(/\/+$/, '')}/v1/models`;
  const headers = apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` };
  const res = await request(url, { headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new ModelsListError(`GET ${url} answered ${res.statusCode}: ${text.slice(0, 200)}`, res.statusCode);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`GET ${url} did not answer JSON`);
  }
  const data = (parsed as { data?: unknown }).data;
  if (!Array.isArray(data)) throw new Error(`GET ${url} has no "data" list`);
  return data.flatMap((m) => (typeof (m as { id?: unknown }).id === 'string' ? [(m as { id: string }).id] : []));
}
