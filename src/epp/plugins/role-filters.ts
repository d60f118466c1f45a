/**
 * llm-d's role filters `decode-filter`, `prefill-filter` and `encode-filter`: keep the endpoints whose pod's
 * `llm-d.ai/role` label names a stage they serve (llm-d's `bylabel/roles.go`).
 */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Filter, SchedulingContext } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';

export const ROLE_LABEL = 'llm-d.ai/role';
export const DECODE_FILTER_TYPE = 'decode-filter';
export const PREFILL_FILTER_TYPE = 'prefill-filter';
export const ENCODE_FILTER_TYPE = 'encode-filter';

/**
 * The roles each filter keeps, as llm-d's. `both` is llm-d's deprecated name of `prefill-decode`. Only
 * `decode-filter` keeps pods without the label: in an aggregated deployment (no roles) every pod decodes, which
 * is why llm-d's sample configs without P/D still list it.
 */
const ROLES: Record<string, { roles: readonly string[]; allowsNoLabel: boolean }> = {
  [DECODE_FILTER_TYPE]: { roles: ['decode', 'prefill-decode', 'both', 'encode-prefill-decode'], allowsNoLabel: true },
  [PREFILL_FILTER_TYPE]: { roles: ['prefill', 'encode-prefill', 'prefill-decode', 'both', 'encode-prefill-decode'], allowsNoLabel: false },
  [ENCODE_FILTER_TYPE]: { roles: ['encode', 'encode-prefill', 'encode-prefill-decode'], allowsNoLabel: false },
};

export class RoleFilter implements Filter {
  readonly type: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly allowsNoLabel: boolean;

  constructor(type: string, name: string = type) {
    const spec = ROLES[type];
    if (!spec) throw new Error(`no role filter of type ${type}`);
    this.type = type;
    this.name = name;
    this.roles = spec.roles;
    this.allowsNoLabel = spec.allowsNoLabel;
  }

  filter(_ctx: SchedulingContext, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    let all = true;
    for (const ep of endpoints) if (!this.#keeps(ep)) all = false;
    return all ? endpoints : endpoints.filter((ep) => this.#keeps(ep));
  }

  whyEmpty(): string {
    return `no candidate's pod has label ${ROLE_LABEL} set to ${this.roles.join(', ')}${this.allowsNoLabel ? ' or lacks that label' : ''}`;
  }

  /** Whether a pod with these labels is kept: the filter reads nothing else (validate asks it of pod specs). */
  keepsLabels(labels: Readonly<Record<string, string>>): boolean {
    const role = labels[ROLE_LABEL];
    return role === undefined ? this.allowsNoLabel : this.roles.includes(role);
  }

  #keeps(ep: Endpoint): boolean {
    return this.keepsLabels(ep.pod.meta.labels);
  }
}

/** No parameters, as llm-d's. */
export function roleFilterFactory(type: string): PluginFactory {
  return (name) => new RoleFilter(type, name);
}
