/**
 * The factories of llm-d's disaggregation handlers, reading their parameters as llm-d does: the current nested
 * `profiles`/`deciders` of `disagg-profile-handler`, its deprecated flat names, and the deprecated
 * `pd-profile-handler`'s. Also llm-d's deprecated header handlers, whose work the profile handler does here.
 */
import type { ParamReader, PluginFactory } from '../../framework/registry.js';
import { noOpPluginFactory } from '../no-op-plugin.js';
import { PREFIX_BASED_PD_DECIDER_TYPE } from './prefix-based-pd-decider.js';
import { DISAGG_PROFILE_HANDLER_TYPE, DisaggProfileHandler, PD_PROFILE_HANDLER_TYPE, type DisaggSettings, type StageOrder } from './disagg-profile-handler.js';

export const DISAGG_HEADERS_HANDLER_TYPE = 'disagg-headers-handler';
export const PREFILL_HEADER_HANDLER_TYPE = 'prefill-header-handler';

/** The deprecated flat parameters of disagg-profile-handler, and the nested ones that replace them. */
const FLAT: readonly [string, string][] = [
  ['decodeProfile', 'profiles.decode'],
  ['prefillProfile', 'profiles.prefill'],
  ['encodeProfile', 'profiles.encode'],
  ['prefillDeciderPluginName', 'deciders.prefill'],
  ['encodeDeciderPluginName', 'deciders.encode'],
  ['deciderPluginName', 'deciders.prefill'],
];

/**
 * `stageOrder` as llm-d parses it: case, `-` and `_` do not matter; empty, `decode` and `decodefirst` mean
 * decode-first, `prefill` and `prefillfirst` prefill-first.
 */
function readStageOrder(r: ParamReader): StageOrder {
  const raw = r.string('stageOrder', '');
  const v = raw.toLowerCase().replace(/[-_]/g, '');
  if (v === '' || v === 'decode' || v === 'decodefirst') return 'decode-first';
  if (v === 'prefill' || v === 'prefillfirst') return 'prefill-first';
  return r.fail('stageOrder', `must be decode-first or prefill-first, got "${raw}"`);
}

/** A name parameter: absent or empty is unset, as llm-d's Go strings. */
function optionalName(r: ParamReader, key: string): string | undefined {
  const v = r.string(key, '');
  return v === '' ? undefined : v;
}

export const disaggProfileHandlerFactory: PluginFactory = (name, params, r) => {
  const stageOrder = readStageOrder(r);
  const flat = FLAT.filter(([k]) => params[k] !== undefined && params[k] !== null);
  const nested = ['profiles', 'deciders'].filter((k) => params[k] !== undefined && params[k] !== null);
  if (flat.length > 0 && nested.length > 0) {
    r.fail(flat[0]![0], `is the deprecated flat form and ${nested.join(' and ')} the current one; use one form exclusively (the current: profiles: {decode, prefill, encode}, deciders: {prefill, encode})`);
  }
  let settings: DisaggSettings;
  if (flat.length > 0) {
    for (const [k, now] of flat) r.warn(`parameters.${k} is deprecated (as in llm-d); use parameters.${now}`);
    const prefillDecider = optionalName(r, 'prefillDeciderPluginName');
    const legacyDecider = optionalName(r, 'deciderPluginName');
    settings = {
      stageOrder,
      profiles: { decode: r.string('decodeProfile', '') || 'decode', prefill: r.string('prefillProfile', '') || 'prefill', encode: r.string('encodeProfile', '') || 'encode' },
      deciders: withDefined({ prefill: prefillDecider ?? legacyDecider, encode: optionalName(r, 'encodeDeciderPluginName') }),
      fields: { decode: 'decodeProfile', prefillDecider: prefillDecider !== undefined ? 'prefillDeciderPluginName' : 'deciderPluginName', encodeDecider: 'encodeDeciderPluginName' },
    };
  } else {
    const profiles = r.child('profiles');
    const deciders = r.child('deciders');
    settings = {
      stageOrder,
      profiles: { decode: profiles.string('decode', '') || 'decode', prefill: profiles.string('prefill', '') || 'prefill', encode: profiles.string('encode', '') || 'encode' },
      deciders: withDefined({ prefill: optionalName(deciders, 'prefill'), encode: optionalName(deciders, 'encode') }),
      fields: { decode: 'profiles.decode', prefillDecider: 'deciders.prefill', encodeDecider: 'deciders.encode' },
    };
  }
  if (stageOrder === 'prefill-first' && settings.deciders.prefill !== undefined) {
    r.fail(settings.fields.prefillDecider, 'is not taken with stageOrder prefill-first, where the prefill stage runs for every request (as llm-d refuses it)');
  }
  return new DisaggProfileHandler(DISAGG_PROFILE_HANDLER_TYPE, name, settings);
};

/**
 * llm-d's deprecated `pd-profile-handler`: `decodeProfile`, `prefillProfile`, `deciderPluginName` (default
 * prefix-based-pd-decider, which must be declared), `prefixMatchInfoProducerName`; `primaryPort` (data-parallel
 * routing through `x-data-parallel-host-port`) is refused, since infergate does not route by it.
 */
export const pdProfileHandlerFactory: PluginFactory = (name, _params, r) => {
  r.warn(`${PD_PROFILE_HANDLER_TYPE} is deprecated (as in llm-d); use ${DISAGG_PROFILE_HANDLER_TYPE} with deciders: {prefill: <decider>}`);
  const primaryPort = r.int('primaryPort', 0, { min: 0, max: 65535 });
  if (primaryPort !== 0) r.fail('primaryPort', "routes decode requests to a data-parallel rank's port through x-data-parallel-host-port, which infergate does not do (llm-d deprecated it: not needed with Istio 1.28.1 and later); remove it");
  r.ignored('prefixMatchInfoProducerName', 'the decider reads the prefix-cache-scorers of the config');
  r.ignored('prefixPluginType', 'llm-d never used it');
  r.ignored('prefixPluginName', 'llm-d never used it');
  const settings: DisaggSettings = {
    stageOrder: 'decode-first',
    profiles: { decode: r.string('decodeProfile', '') || 'decode', prefill: r.string('prefillProfile', '') || 'prefill', encode: '' },
    deciders: { prefill: r.string('deciderPluginName', '') || PREFIX_BASED_PD_DECIDER_TYPE },
    fields: { decode: 'decodeProfile', prefillDecider: 'deciderPluginName', encodeDecider: 'encodeDeciderPluginName' },
  };
  return new DisaggProfileHandler(PD_PROFILE_HANDLER_TYPE, name, settings);
};

/** llm-d's deprecated header handlers: the profile handler writes the headers here, so they only load. */
export function deprecatedHeaderHandlerFactory(type: string): PluginFactory {
  return noOpPluginFactory(type, `llm-d deprecated it, and the ${DISAGG_PROFILE_HANDLER_TYPE} writes x-prefiller-host-port and x-encoder-hosts-ports itself; remove it`);
}

function withDefined<T extends Record<string, string | undefined>>(o: T): { [K in keyof T]?: string } {
  const out: { [K in keyof T]?: string } = {};
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
