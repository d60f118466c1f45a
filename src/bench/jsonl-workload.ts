/** Replays requests from a JSON Lines file, in order, cycling: for traces captured from real traffic. */
import { readFile } from 'node:fs/promises';
import type { BenchRequest, Workload } from './workload.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One line -> one request; throws with the file and line number when the line cannot be sent. */
function parseLine(line: string, where: string): BenchRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new SyntaxError(`${where}: not JSON (${(e as Error).message})`);
  }
  if (!isObject(value)) throw new TypeError(`${where}: each line must be a JSON object`);
  const { path, tags, ...body } = value;
  if (typeof body.model !== 'string' || body.model === '') throw new TypeError(`${where}: "model" must be a non-empty string`);
  const hasPrompt = body.prompt !== undefined;
  const hasMessages = body.messages !== undefined;
  if (hasPrompt === hasMessages) throw new TypeError(`${where}: give exactly one of "prompt" or "messages"`);
  if (path !== undefined && path !== '/v1/completions' && path !== '/v1/chat/completions') {
    throw new TypeError(`${where}: "path" must be /v1/completions or /v1/chat/completions, got ${JSON.stringify(path)}`);
  }
  const request: BenchRequest = {
    path: path ?? (hasMessages ? '/v1/chat/completions' : '/v1/completions'),
    model: body.model,
    body,
  };
  if (isObject(tags)) request.tags = Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)]));
  return request;
}

/**
 * Each non-blank line is `{"path"?, "model", "prompt"|"messages", "max_tokens"?, ...}`; everything but `path` and
 * `tags` is sent as the body (the runner still decides `stream`). The path defaults from prompt/messages.
 */
export async function jsonlWorkload(path: string): Promise<Workload> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`--file ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : (e as Error).message}`);
  }
  // Windows tools (PowerShell's Out-File, Notepad's "UTF-8 with BOM") start the file with U+FEFF, which JSON.parse
  // refuses: line 1 of a good trace was "not JSON".
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const requests: BenchRequest[] = [];
  for (const [n, line] of text.split('\n').entries()) {
    if (line.trim() !== '') requests.push(parseLine(line, `${path}:${n + 1}`));
  }
  if (requests.length === 0) throw new Error(`${path}: no requests (the file has no non-blank lines)`);
  return {
    name: 'jsonl',
    next(i) {
      const r = requests[i % requests.length] as BenchRequest;
      // A copy per request, so a caller that edits a body cannot change the lines replayed later.
      return { ...r, body: { ...r.body } };
    },
  };
}
