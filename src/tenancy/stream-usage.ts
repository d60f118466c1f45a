/**
 * A streamed completion reports its `usage` only when asked (`stream_options.include_usage`). With `--api-keys`
 * the gateway asks for it on the client's behalf, so a stream's tokens count against its tenant's limits, and
 * hides the usage chunk from a client that did not ask (src/tenancy/usage-chunk-filter.ts).
 */
import { topLevelMemberSpan } from './json-member-span.js';
import { bomLength } from '../bbr/utf8-bom.js';

/** The OpenAI paths whose streams end with a usage-only chunk when asked: vLLM's and OpenAI's. */
const USAGE_PATHS: ReadonlySet<string> = new Set(['/v1/chat/completions', '/v1/completions']);

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const ASK_USAGE = Buffer.from('"stream_options":{"include_usage":true}');
const ASK_USAGE_AND_MORE = Buffer.from('"stream_options":{"include_usage":true},');

/** What the upstream request carries: `body` is replaced when usage is asked for. */
export interface StreamedRequest {
  /** Path and query string, as the client sent them. */
  readonly url: string;
  body: Buffer | undefined;
}

/**
 * For a streamed (chat) completion whose client did not ask for usage: sets `stream_options.include_usage` to
 * true in `req.body` and returns true, meaning the usage chunk must be kept from the client. `json` is the parsed
 * body (`plan.json`); the bytes are spliced, never serialised again (a long prompt is copied once, a rewritten
 * model stays rewritten). Returns false, changing nothing, when the client asked for usage itself, for other
 * paths, and for a `stream_options` that is not an object (the server answers its 400 as it would have).
 */
export function askForStreamUsage(req: StreamedRequest, json: Record<string, unknown> | undefined): boolean {
  const body = req.body;
  if (json === undefined || body === undefined || !USAGE_PATHS.has(pathOf(req.url))) return false;
  const options = json.stream_options;
  if (options === undefined) {
    const next = insertFirstMember(body);
    if (next === undefined) return false;
    req.body = next;
    return true;
  }
  if (options !== null && (typeof options !== 'object' || Array.isArray(options))) return false;
  const given = (options ?? {}) as Record<string, unknown>;
  if (given.include_usage === true) return false;
  const span = topLevelMemberSpan(body, 'stream_options');
  if (span === undefined) return false;
  // vLLM sends usage on every chunk with continuous_usage_stats, but only when include_usage is on: this client
  // saw none, and still sees none.
  const asked = given.continuous_usage_stats === true ? { ...given, include_usage: true, continuous_usage_stats: false } : { ...given, include_usage: true };
  req.body = Buffer.concat([body.subarray(0, span.start), Buffer.from(JSON.stringify(asked)), body.subarray(span.end)]);
  return true;
}

/** `stream_options` as the object's first member: no duplicate key, since the body has none. */
function insertFirstMember(body: Buffer): Buffer | undefined {
  // After a byte order mark opening the body, which the parse skipped too.
  let i = bomLength(body);
  while (i < body.length && body[i] !== OPEN_OBJECT) {
    const c = body[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return undefined;
    i++;
  }
  if (i === body.length) return undefined;
  let j = i + 1;
  while (j < body.length && (body[j] === 0x20 || body[j] === 0x0a || body[j] === 0x0d || body[j] === 0x09)) j++;
  const member = body[j] === CLOSE_OBJECT ? ASK_USAGE : ASK_USAGE_AND_MORE;
  return Buffer.concat([body.subarray(0, i + 1), member, body.subarray(i + 1)], body.length + member.length);
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
