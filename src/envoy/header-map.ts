/** Envoy's HeaderMap and HeaderMutation: reading request headers, writing the headers to set and remove. */
import type { HeaderMap, HeaderMutation } from './processing-messages.js';

/**
 * Lower-cased names -> values, pseudo-headers (`:method`, `:path`, `:authority`) included. Envoy sends
 * values in `raw_value` (bytes); older data planes used `value`. Repeated names are joined with ", ".
 */
export function readHeaderMap(map: HeaderMap | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const h of map?.headers ?? []) {
    const name = h.key.toLowerCase();
    const value = h.raw_value && h.raw_value.length > 0 ? h.raw_value.toString('utf8') : (h.value ?? '');
    const prior = out.get(name);
    out.set(name, prior === undefined ? value : `${prior}, ${value}`);
  }
  return out;
}

/** What a processor wants changed in a header block. */
export interface HeaderChanges {
  set: Readonly<Record<string, string>>;
  remove: readonly string[];
}

export const NO_HEADER_CHANGES: HeaderChanges = { set: {}, remove: [] };

export function hasChanges(c: HeaderChanges): boolean {
  return c.remove.length > 0 || Object.keys(c.set).length > 0;
}

/**
 * Values go in `raw_value`, as Envoy requires; `OVERWRITE_IF_EXISTS_OR_ADD` so a value the client sent is
 * replaced rather than appended to. Undefined when there is nothing to change (the field stays unset).
 */
export function headerMutation(c: HeaderChanges): HeaderMutation | undefined {
  if (!hasChanges(c)) return undefined;
  const m: HeaderMutation = {};
  const set = Object.entries(c.set);
  if (set.length > 0) m.set_headers = set.map(([key, value]) => ({ header: { key, raw_value: Buffer.from(value, 'utf8') }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }));
  if (c.remove.length > 0) m.remove_headers = [...c.remove];
  return m;
}
