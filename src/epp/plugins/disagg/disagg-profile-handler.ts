/**
 * llm-d's disaggregation profile handler (`disagg-profile-handler`, and the deprecated `pd-profile-handler`): decode
 * is always scheduled; encode and prefill run on their own pods when their deciders say so. The request still goes
 * to the decode pod (the primary profile), with the other stages' pods in `x-prefiller-host-port` and
 * `x-encoder-hosts-ports` for the routing sidecar in front of it, which sends the prefill and encode work there.
 */
import type { Endpoint } from '../../datastore/endpoint.js';
import type { ConfigLinked, LinkableConfig, LinkReport, Plugin, SchedulingContext } from '../../framework/plugin.js';
import type { ProfileHandler } from '../../framework/profile-handler.js';
import type { CycleResult } from '../../framework/run-cycle.js';
import type { SchedulingProfile } from '../../framework/scheduling-profile.js';
import { ENCODER_ENDPOINTS_HEADER, PREFILL_ENDPOINT_HEADER } from '../../../bbr/routing-headers.js';
import { isDisaggDecider, type DisaggDecider } from './disagg-decider.js';

export const DISAGG_PROFILE_HANDLER_TYPE = 'disagg-profile-handler';
export const PD_PROFILE_HANDLER_TYPE = 'pd-profile-handler';

/** decode-first (llm-d's default): the prefill decider weighs the decode pick; prefill-first: prefill always runs first. */
export type StageOrder = 'decode-first' | 'prefill-first';

/** llm-d's `decision_type` values, by the stages a request went through. */
export type DisaggDecision = 'decode-only' | 'prefill-decode' | 'encode-decode' | 'encode-prefill-decode';

export interface DisaggSettings {
  stageOrder: StageOrder;
  /** Profile names of the stages (defaults decode, prefill, encode). */
  profiles: { decode: string; prefill: string; encode: string };
  /** Decider plugin names; a stage without one never runs (prefill-first's prefill needs none). */
  deciders: { prefill?: string; encode?: string };
  /** Where each setting was read, for messages (`profiles.decode` or the deprecated `decodeProfile`). */
  fields: { decode: string; prefillDecider: string; encodeDecider: string };
}

/** Told of each request's stages once its schedule ends (llm-d's `llm_d_epp_disagg_decision_total`, or `pd_decision` for the deprecated type). */
export type DisaggDecisionObserver = (handler: DisaggProfileHandler, model: string | undefined, decision: DisaggDecision) => void;

export class DisaggProfileHandler implements ProfileHandler, ConfigLinked {
  readonly type: string;
  readonly name: string;
  readonly settings: DisaggSettings;
  decisionObserver: DisaggDecisionObserver | undefined;
  #prefill: DisaggDecider | undefined;
  #encode: DisaggDecider | undefined;
  /** CycleState key of the stages this schedule's deciders turned down. */
  readonly #skippedKey: string;

  constructor(type: string, name: string, settings: DisaggSettings) {
    this.type = type;
    this.name = name;
    this.settings = settings;
    this.#skippedKey = `disagg-skipped/${name}`;
  }

  /** Finds the decode profile and the deciders; a stage that can never run is a warning, as llm-d logs it. */
  link(config: LinkableConfig): LinkReport {
    const report: LinkReport = { issues: [], warnings: [] };
    const { profiles, deciders, fields, stageOrder } = this.settings;
    const has = (p: string): boolean => config.profiles.includes(p);
    if (!has(profiles.decode)) report.issues.push({ field: `parameters.${fields.decode}`, message: `names no scheduling profile ("${profiles.decode}"); the decode stage is always scheduled. Profiles: ${config.profiles.join(', ') || 'none'}` });
    const decider = (name: string | undefined, field: string): DisaggDecider | undefined => {
      if (name === undefined) return undefined;
      const p: Plugin | undefined = config.plugins.get(name);
      // One declared that failed to load has its own error.
      if (p === undefined && config.failed.has(name)) return undefined;
      if (p === undefined) report.issues.push({ field: `parameters.${field}`, message: `names no plugin of this config ("${name}"); declare the decider under plugins (e.g. type prefix-based-pd-decider)` });
      else if (!isDisaggDecider(p)) report.issues.push({ field: `parameters.${field}`, message: `"${name}" is a ${p.type}, not a decider (prefix-based-pd-decider, always-disagg-pd-decider or always-disagg-multimodal-decider)` });
      else return p;
      return undefined;
    };
    this.#prefill = decider(deciders.prefill, fields.prefillDecider);
    this.#encode = decider(deciders.encode, fields.encodeDecider);
    for (const [stage, name, set] of [['prefill', profiles.prefill, stageOrder === 'prefill-first' || deciders.prefill !== undefined], ['encode', profiles.encode, deciders.encode !== undefined]] as const) {
      if (set && !has(name)) report.warnings.push(`the ${stage} stage never runs: there is no scheduling profile "${name}"`);
      if (!set && has(name)) report.warnings.push(`scheduling profile "${name}" never runs: no ${stage} decider is named (${stage === 'prefill' ? fields.prefillDecider : fields.encodeDecider}), so every request is ${stage === 'prefill' ? 'prefilled' : 'encoded'} on its decode pod`);
    }
    return report;
  }

  pickProfiles(ctx: SchedulingContext, profiles: ReadonlyMap<string, SchedulingProfile>, results: ReadonlyMap<string, CycleResult>): readonly SchedulingProfile[] {
    // A failover schedules the request again with the same context: its deciders decide afresh.
    if (results.size === 0) ctx.state.write(this.#skippedKey, undefined);
    return this.settings.stageOrder === 'prefill-first' ? this.#prefillFirst(ctx, profiles, results) : this.#decodeFirst(ctx, profiles, results);
  }

  primaryProfile(_ctx: SchedulingContext, results: ReadonlyMap<string, CycleResult>): string | undefined {
    return results.has(this.settings.profiles.decode) ? this.settings.profiles.decode : undefined;
  }

  /**
   * The prefill pod and the encode pods, as llm-d's handler writes them in PreRequest; a stage that did not run (or
   * picked nothing) removes its header, so one from an earlier attempt or from the client never reaches the sidecar.
   */
  requestHeaders(_ctx: SchedulingContext, results: ReadonlyMap<string, CycleResult>): Readonly<Record<string, string | undefined>> {
    const { prefill, encode } = this.settings.profiles;
    const encoders = pickedBy(results.get(encode));
    return {
      [PREFILL_ENDPOINT_HEADER]: results.get(prefill)?.endpoint?.address,
      [ENCODER_ENDPOINTS_HEADER]: encoders.length > 0 ? encoders.map((e) => e.address).join(',') : undefined,
    };
  }

  /** The prefill pod and the encode pods that ran: they work for the request before the decode pod answers. */
  stageEndpoints(_ctx: SchedulingContext, results: ReadonlyMap<string, CycleResult>): readonly Endpoint[] {
    const { prefill, encode } = this.settings.profiles;
    const p = results.get(prefill)?.endpoint;
    const encoders = pickedBy(results.get(encode));
    return p === undefined ? encoders : [p, ...encoders];
  }

  #decodeFirst(ctx: SchedulingContext, profiles: ReadonlyMap<string, SchedulingProfile>, results: ReadonlyMap<string, CycleResult>): readonly SchedulingProfile[] {
    const { decode, prefill, encode } = this.settings.profiles;
    if (!results.has(decode)) return only(profiles.get(decode));
    const picked = results.get(decode)!.endpoint;
    if (picked === undefined) return [];
    const next = this.#stage(ctx, profiles, results, encode, this.#encode, picked) ?? this.#stage(ctx, profiles, results, prefill, this.#prefill, picked);
    if (next !== undefined) return [next];
    this.#decided(ctx, profiles, results);
    return [];
  }

  #prefillFirst(ctx: SchedulingContext, profiles: ReadonlyMap<string, SchedulingProfile>, results: ReadonlyMap<string, CycleResult>): readonly SchedulingProfile[] {
    const { decode, prefill, encode } = this.settings.profiles;
    if (results.has(decode)) {
      if (results.get(decode)!.endpoint !== undefined) this.#decided(ctx, profiles, results);
      return [];
    }
    // Prefill first: it runs whenever its profile exists (llm-d takes no prefill decider in this order).
    const p = profiles.get(prefill);
    if (p !== undefined && !results.has(prefill)) return [p];
    const e = this.#stage(ctx, profiles, results, encode, this.#encode, undefined);
    return e !== undefined ? [e] : only(profiles.get(decode));
  }

  /** The stage's profile when it exists, has not run or been turned down, and its decider says yes; else marks it turned down. */
  #stage(ctx: SchedulingContext, profiles: ReadonlyMap<string, SchedulingProfile>, results: ReadonlyMap<string, CycleResult>, name: string, decider: DisaggDecider | undefined, decode: Endpoint | undefined): SchedulingProfile | undefined {
    const profile = profiles.get(name);
    if (profile === undefined || decider === undefined || results.has(name)) return undefined;
    let skipped = ctx.state.read<Set<string>>(this.#skippedKey);
    if (skipped?.has(name) === true) return undefined;
    if (decider.disaggregate(ctx, decode)) return profile;
    if (skipped === undefined) ctx.state.write(this.#skippedKey, (skipped = new Set()));
    skipped.add(name);
    return undefined;
  }

  /**
   * Counts the request's stages. disagg-profile-handler counts the stages that picked a pod, as llm-d's; the
   * deprecated pd-profile-handler counts its decider's answer (llm-d's records it before the prefill profile runs,
   * so a prefill profile that then picks nothing is still `prefill-decode`), and nothing without a prefill profile,
   * where llm-d's never asks its decider.
   */
  #decided(ctx: SchedulingContext, profiles: ReadonlyMap<string, SchedulingProfile>, results: ReadonlyMap<string, CycleResult>): void {
    if (this.decisionObserver === undefined) return;
    const { prefill } = this.settings.profiles;
    if (this.type === PD_PROFILE_HANDLER_TYPE) {
      if (profiles.has(prefill)) this.decisionObserver(this, ctx.request.model, results.has(prefill) ? 'prefill-decode' : 'decode-only');
      return;
    }
    const encoded = results.get(this.settings.profiles.encode)?.endpoint !== undefined;
    const prefilled = results.get(prefill)?.endpoint !== undefined;
    this.decisionObserver(this, ctx.request.model, encoded ? (prefilled ? 'encode-prefill-decode' : 'encode-decode') : prefilled ? 'prefill-decode' : 'decode-only');
  }
}

function only(p: SchedulingProfile | undefined): readonly SchedulingProfile[] {
  return p === undefined ? [] : [p];
}

/** Every endpoint a profile picked: its ranked list (maxNumOfEndpoints above 1), else its one pick. */
function pickedBy(r: CycleResult | undefined): readonly Endpoint[] {
  if (r?.ranked !== undefined) return r.ranked;
  return r?.endpoint !== undefined ? [r.endpoint] : [];
}
