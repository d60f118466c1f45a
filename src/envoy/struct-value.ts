/**
 * google.protobuf.Struct <-> plain JSON values. protobufjs names Value's fields in camelCase even when
 * proto-loader keeps field case, so both spellings are read; camelCase is written.
 */
import type { Metadata, Struct, StructValue } from './processing-messages.js';

export type JsonValue = null | number | string | boolean | JsonValue[] | { [key: string]: JsonValue };

/** Filter metadata as plain objects: namespace -> its Struct as JSON. */
export type FilterMetadata = Record<string, Record<string, JsonValue>>;

/** Deeper metadata is refused: the walk recurses, and no filter's metadata nests anywhere near this. */
const MAX_STRUCT_DEPTH = 100;

export function fromStruct(s: Struct | undefined, depth = 0): Record<string, JsonValue> {
  if (depth > MAX_STRUCT_DEPTH) throw new Error(`filter metadata nests deeper than ${MAX_STRUCT_DEPTH} levels`);
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(s?.fields ?? {})) out[k] = fromValue(v, depth + 1);
  return out;
}

function fromValue(v: StructValue, depth: number): JsonValue {
  const raw = v as StructValue & Record<string, unknown>;
  const str = v.stringValue ?? (raw.string_value as string | undefined);
  if (str !== undefined) return str;
  const num = v.numberValue ?? (raw.number_value as number | undefined);
  if (num !== undefined) return num;
  const bool = v.boolValue ?? (raw.bool_value as boolean | undefined);
  if (bool !== undefined) return bool;
  const struct = v.structValue ?? (raw.struct_value as Struct | undefined);
  if (struct !== undefined) return fromStruct(struct, depth);
  const list = v.listValue ?? (raw.list_value as { values?: StructValue[] } | undefined);
  if (list !== undefined) {
    if (depth > MAX_STRUCT_DEPTH) throw new Error(`filter metadata nests deeper than ${MAX_STRUCT_DEPTH} levels`);
    return (list.values ?? []).map((x) => fromValue(x, depth + 1));
  }
  return null;
}

export function toStruct(o: Record<string, JsonValue>): Struct {
  const fields: Record<string, StructValue> = {};
  for (const [k, v] of Object.entries(o)) fields[k] = toValue(v);
  return { fields };
}

function toValue(v: JsonValue): StructValue {
  if (v === null) return { nullValue: 0 };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  return { structValue: toStruct(v) };
}

/** Merges a message's metadata_context into what the stream has seen: a namespace sent again replaces the old one. */
export function mergeFilterMetadata(into: FilterMetadata, m: Metadata | undefined): void {
  for (const [ns, s] of Object.entries(m?.filter_metadata ?? {})) into[ns] = fromStruct(s);
}
