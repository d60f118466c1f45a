/** A ConfigMap that is not a BBR allowlist: kept as plain string data (e.g. an EndpointPickerConfig a pool references). */
import type { FieldReader, Raw } from './field-reader.js';
import type { Located } from './object-meta.js';

export interface PlainConfigMap extends Located {
  kind: 'ConfigMap';
  data: Readonly<Record<string, string>>;
}

export function readConfigMapData(r: FieldReader, raw: Record<string, Raw>, base: Located): PlainConfigMap {
  return { ...base, kind: 'ConfigMap', data: r.stringMap(raw.data, 'data') };
}
