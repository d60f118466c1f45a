/** BBR allowlist ConfigMaps: a base model and its LoRA adapters, as GIE's body-based router reads them. */
import { parse as parseYaml } from 'yaml';
import type { FieldReader, Raw } from './field-reader.js';
import type { Located } from './object-meta.js';

/** The label llm-d's payload processor reads to take a ConfigMap as an allowlist; the value must be exactly "true". */
export const IPP_MANAGED_LABEL = 'inference.llm-d.ai/ipp-managed';
/** The label GIE's body-based router (≤ v1.5, the field report's) read; still read. */
export const BBR_MANAGED_LABEL = 'inference.networking.k8s.io/bbr-managed';
/** Either label marks an allowlist, the current one first. */
export const ALLOWLIST_LABELS: readonly string[] = [IPP_MANAGED_LABEL, BBR_MANAGED_LABEL];
/** How messages tell users to label an allowlist. */
export const ALLOWLIST_LABEL_HINT = `a ConfigMap labelled ${IPP_MANAGED_LABEL}: "true" (or the older ${BBR_MANAGED_LABEL}: "true")`;

export interface Allowlist extends Located {
  kind: 'Allowlist';
  baseModel: string;
  adapters: readonly string[];
}

export function isAllowlist(labels: Readonly<Record<string, string>>): boolean {
  return labels[IPP_MANAGED_LABEL] === 'true' || labels[BBR_MANAGED_LABEL] === 'true';
}

/** Reads `data.baseModel` (required) and `data.adapters` (a YAML list inside a string). */
export function readAllowlist(r: FieldReader, raw: Record<string, Raw>, base: Located): Allowlist {
  const data = r.object(raw.data, 'data', true) ?? {};
  const baseModel = (r.string(data.baseModel, 'data.baseModel', true) ?? '').trim();
  const adapters: string[] = [];
  // A YAML list is what the key's meaning suggests, but ConfigMap data values are strings (the API server refuses a
  // list), and GIE and llm-d read the list out of the string: say how to write it, not only that it is no string.
  if (Array.isArray(data.adapters)) {
    r.fail('data.adapters', 'must be a string holding the YAML list, as ConfigMap data values are strings: write `adapters: |` with the `- name` lines indented under it, got a list');
  }
  const text = Array.isArray(data.adapters) ? undefined : r.string(data.adapters, 'data.adapters');
  if (text !== undefined && text.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (e) {
      r.fail('data.adapters', `is not a YAML list: ${(e as Error).message.split('\n')[0]}`);
    }
    if (parsed !== undefined) {
      if (!Array.isArray(parsed)) r.fail('data.adapters', 'must be a YAML list of adapter names, e.g. "- my-lora"');
      else
        parsed.forEach((entry: unknown, i) => {
          const a = adapterName(entry);
          // llm-d's payload processor skips an empty entry and maps the base model to itself: both are harmless
          // there, so a ConfigMap written for it must not take infergate's whole configuration down.
          if (entry === null || a?.trim() === '') r.lenient(`data.adapters[${i}]`, 'is empty, so it is skipped (as llm-d skips it)');
          else if (a === undefined) r.fail(`data.adapters[${i}]`, 'must be an adapter name');
          else if (a.trim() === baseModel) r.lenient(`data.adapters[${i}]`, `names the base model "${baseModel}" itself, not an adapter, so it is skipped: requests for it go to the base model`);
          else if (!adapters.includes(a.trim())) adapters.push(a.trim());
        });
    }
  }
  return { ...base, kind: 'Allowlist', baseModel, adapters };
}

/**
 * An adapter name as llm-d's payload processor (and GIE's body-based router) read it: the list is decoded into
 * strings by sigs.k8s.io/yaml, which takes an unquoted number or boolean (`- 1`, as llm-d's own integration
 * harness writes) as its text. Undefined for what it refuses (a mapping, a list).
 */
function adapterName(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (typeof entry === 'number' || typeof entry === 'boolean') return String(entry);
  return undefined;
}
