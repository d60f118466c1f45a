/**
 * InferencePools whose EndpointPickerConfig has a scheduling profile whose label filters (`decode-filter`,
 * `prefill-filter`, `encode-filter`, `label-selector-filter`) keep none of the pool's ready model servers: a
 * decode (or only) profile then picks nothing and every request gets 503, and a P/D pool's prefill or encode
 * profile never picks, so no request is ever disaggregated. Judged with the pool's own config, loaded by the
 * gateway's PoolSchedulers, on the pods' labels as the filters read them.
 */
import { keyOf } from '../../api/object-meta.js';
import type { InferencePool } from '../../api/inference-pool.js';
import type { Filter } from '../../epp/framework/plugin.js';
import type { SchedulerConfig } from '../../epp/framework/scheduler.js';
import type { SchedulingProfile } from '../../epp/framework/scheduling-profile.js';
import { DisaggProfileHandler } from '../../epp/plugins/disagg/disagg-profile-handler.js';
import { LabelSelectorFilter, matchesSelector } from '../../epp/plugins/label-selector-filter.js';
import { ROLE_LABEL, RoleFilter } from '../../epp/plugins/role-filters.js';
import { EPP_CONFIG_ANNOTATION } from '../../epp/pool-schedulers.js';
import type { Check } from '../check.js';
import { subjectOf, type Finding } from '../finding.js';
import { describeServer, type ModelServer } from '../model-servers.js';
import { poolConfigs } from '../pool-configs.js';
import { poolServed } from '../validation-context.js';

/** A profile the pool's requests run through, and what it is for. */
interface Stage {
  profile: SchedulingProfile;
  /** `decode` (or the only profile) receives the request; `prefill` and `encode` only add a pod to its headers. */
  stage: 'decode' | 'prefill' | 'encode' | 'only';
}

export const profilePods: Check = {
  name: 'profile-pods',
  codes: ['profile-no-pods', 'disagg-stage-no-pods'],
  run(ctx) {
    const findings: Finding[] = [];
    for (const [key, config] of poolConfigs(ctx)) {
      const pool = ctx.snapshot.pools.get(key)!;
      // No ready server at all is pool-no-ready-pods' finding.
      const { ready } = poolServed(ctx, key);
      if (ready.length === 0) continue;
      for (const { profile, stage } of stagesOf(config)) {
        const emptied = firstEmptyingFilter(profile.filters, ready);
        if (emptied) findings.push(finding(pool, stage, profile, emptied, ready));
      }
    }
    return findings;
  },
};

/** The profiles that run: a disagg handler's decode profile and the stages it can run, or a lone profile. */
function stagesOf(config: SchedulerConfig): Stage[] {
  const handler = config.handler;
  if (handler instanceof DisaggProfileHandler) {
    const { profiles, deciders, stageOrder } = handler.settings;
    const stages: Stage[] = [];
    const add = (name: string, stage: Stage['stage'], runs: boolean): void => {
      const profile = config.profiles.get(name);
      if (profile && runs) stages.push({ profile, stage });
    };
    add(profiles.decode, 'decode', true);
    add(profiles.prefill, 'prefill', stageOrder === 'prefill-first' || deciders.prefill !== undefined);
    add(profiles.encode, 'encode', deciders.encode !== undefined);
    return stages;
  }
  // Other handlers with several profiles choose among them per request: which one receives it is not known here.
  const only = config.profiles.size === 1 ? [...config.profiles.values()][0] : undefined;
  return only ? [{ profile: only, stage: 'only' }] : [];
}

/** The first filter, in profile order, after which none of `servers` is left; only filters that read pod labels alone count. */
function firstEmptyingFilter(filters: readonly Filter[], servers: readonly ModelServer[]): RoleFilter | LabelSelectorFilter | undefined {
  let left = servers;
  for (const f of filters) {
    if (f instanceof RoleFilter) left = left.filter((s) => f.keepsLabels(s.labels));
    else if (f instanceof LabelSelectorFilter) left = left.filter((s) => matchesSelector(s.labels, f.selector));
    else continue;
    if (left.length === 0) return f;
  }
  return undefined;
}

function finding(pool: InferencePool, stage: Stage['stage'], profile: SchedulingProfile, filter: RoleFilter | LabelSelectorFilter, ready: readonly ModelServer[]): Finding {
  const role = filter instanceof RoleFilter;
  const keeps = role ? `pods whose label ${ROLE_LABEL} is ${filter.roles.join(', ')}${filter.allowsNoLabel ? ' (or missing)' : ''}` : `pods matching its selector ${JSON.stringify(filter.selector)}`;
  const servers = ready.map((s) => `${describeServer(s)}${role ? (s.labels[ROLE_LABEL] === undefined ? ` without ${ROLE_LABEL}` : ` with ${ROLE_LABEL}: ${s.labels[ROLE_LABEL]}`) : ''}`).join(', ');
  const named = filter.name === filter.type ? filter.name : `${filter.name} (${filter.type})`;
  const where = pool.meta.annotations[EPP_CONFIG_ANNOTATION] !== undefined ? `ConfigMap ${pool.meta.namespace}/${pool.meta.annotations[EPP_CONFIG_ANNOTATION]}` : 'the EndpointPickerConfig';
  const label = role ? `${ROLE_LABEL}: ${filter.roles[0]}` : 'the labels its selector asks for';
  const primary = stage === 'decode' || stage === 'only';
  return {
    ...subjectOf(pool),
    field: pool.meta.annotations[EPP_CONFIG_ANNOTATION] !== undefined ? `metadata.annotations.${EPP_CONFIG_ANNOTATION}` : null,
    severity: primary ? 'error' : 'warning',
    code: primary ? 'profile-no-pods' : 'disagg-stage-no-pods',
    message:
      `scheduling profile "${profile.name}"${stage === 'only' ? '' : ` (the ${stage} stage)`} keeps none of the pool's ready model servers: its ${named} keeps only ${keeps}, and the pool's are ${servers}. ` +
      (primary
        ? 'The profile picks no endpoint, so every request routed to this pool gets 503 no_healthy_endpoint.'
        : `The ${stage} profile never picks a pod, so no request is ever ${stage === 'prefill' ? 'prefilled' : 'encoded'} on a pod of its own: each runs whole on its decode pod, and the pool is not disaggregated.`),
    fix: primary
      ? `Label the pool's ${stage === 'decode' ? 'decode ' : ''}pods (their workload's pod template) ${label}, or correct the profile's filters in ${where}.`
      : `Label the ${stage} pods (their workload's pod template) ${label} and make the pool's selector (${keyOf(pool.meta)}) take them; or, if this pool is not meant to disaggregate, remove the ${stage} decider from ${where}.`,
  };
}
