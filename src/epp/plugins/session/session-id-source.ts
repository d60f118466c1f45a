/** Where the `session_id` strategy reads a request's session id: llm-d's `sessionIdConfig.sources`, tried in order. */
import { describeValue, type ParamReader } from '../../framework/param-reader.js';
import type { SchedulingContext } from '../../framework/plugin.js';
import { attributeKey } from '../../framework/request-attribute.js';

/** llm-d's default source: one header. */
export const DEFAULT_SESSION_ID_HEADER = 'x-session-id';

/** Exactly one of `header` (a request header) or `attribute` (published by a plugin: `producer`, or none for a producer-agnostic key). */
export type SessionIdSource = { readonly header: string } | { readonly attribute: string; readonly producer: string };

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** The first non-empty id of the sources, trimmed; undefined: the request names no session (no preference). */
export function resolveSessionId(ctx: SchedulingContext, sources: readonly SessionIdSource[]): string | undefined {
  for (const s of sources) {
    const v = 'header' in s ? ctx.request.header(s.header) : ctx.state.read<unknown>(attributeKey(s.attribute, s.producer));
    // llm-d skips an attribute that is not a string.
    if (typeof v !== 'string') continue;
    const id = v.trim();
    if (id !== '') return id;
  }
  return undefined;
}

/** Reads `sources` (under `sessionIdConfig`); an empty or absent list is llm-d's default, the `x-session-id` header. */
export function readSessionIdSources(r: ParamReader): SessionIdSource[] {
  const sources = r.list('sources', (v, path): SessionIdSource => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) r.fail(path, `must be a mapping with header or attribute, got ${describeValue(v)}`);
    const o = v as Record<string, unknown>;
    const unknown = Object.keys(o).find((k) => k !== 'header' && k !== 'attribute' && k !== 'producer');
    if (unknown !== undefined) r.fail(`${path}.${unknown}`, 'unknown field; a source has header, or attribute and optionally producer');
    const str = (k: string): string | undefined => {
      const x = o[k];
      if (x === undefined || x === null || x === '') return undefined;
      if (typeof x !== 'string') r.fail(`${path}.${k}`, `must be a string, got ${describeValue(x)}`);
      return x;
    };
    const header = str('header');
    const attribute = str('attribute');
    const producer = str('producer');
    if ((header === undefined) === (attribute === undefined)) r.fail(path, 'exactly one of header or attribute must be set');
    if (header !== undefined) {
      if (!HEADER_NAME.test(header.trim())) r.fail(`${path}.header`, `must be an HTTP header name, got ${describeValue(header)}`);
      if (producer !== undefined) r.fail(`${path}.producer`, 'names the plugin publishing an attribute; a header source has none');
      return { header: header.trim().toLowerCase() };
    }
    return { attribute: attribute!, producer: producer ?? '' };
  });
  return sources.length > 0 ? sources : [{ header: DEFAULT_SESSION_ID_HEADER }];
}

/** How a source reads in messages and notes: `header x-session-id`, `attribute agent-identity`. */
export function describeSource(s: SessionIdSource): string {
  return 'header' in s ? `header ${s.header}` : `attribute ${s.attribute}${s.producer ? ` from ${s.producer}` : ''}`;
}
