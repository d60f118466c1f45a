/** The parameters `session-affinity-scorer` and `session-affinity-filter` share, by llm-d's names (router PR #2238). */
import type { ParamReader } from '../../framework/param-reader.js';
import type { LinkableConfig, LinkReport } from '../../framework/plugin.js';
import { readSessionIdSources, type SessionIdSource } from './session-id-source.js';
import { DEFAULT_SESSION_HEADER } from './session-token.js';
import { EncodedEndpointHeader, SessionIdBinding, type SessionStrategy, type StrategyName } from './session-strategy.js';

const STRATEGIES: readonly StrategyName[] = ['encoded_endpoint_header', 'session_id'];
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** llm-d's defaults: bindings unused for 300 s are dropped, swept every 10 s. */
export const DEFAULT_EVICTION_TTL_SECONDS = 300;
export const DEFAULT_EVICTION_SWEEP_SECONDS = 10;
/** infergate's own bound on bindings (session ids are client-chosen): the least recently used go first. */
export const DEFAULT_MAX_SESSIONS = 100_000;

export interface SessionAffinitySettings {
  readonly strategy: SessionStrategy;
  /** llm-d's `profileName`, when set. */
  readonly profileName: string | undefined;
  /** The attribute sources' producers, to check they exist once the config is built. */
  readonly sources: readonly SessionIdSource[];
}

/**
 * `strategy` (`encoded_endpoint_header`, the default, or `session_id`; `algorithm` is infergate's earlier name),
 * the selected strategy's block (`encodedEndpointHeaderConfig.header`, older llm-d's `headerName`;
 * `sessionIdConfig.{sources, evictionTtlSeconds, evictionSweepSeconds}`, and infergate's `maxSessions`), and
 * `profileName`. The other strategy's block is ignored with a warning, as llm-d only reads the selected one.
 */
export function readSessionAffinity(name: string, r: ParamReader): SessionAffinitySettings {
  const strategy = r.has('strategy') ? r.oneOf('strategy', 'encoded_endpoint_header', STRATEGIES) : r.oneOf('algorithm', 'encoded_endpoint_header', STRATEGIES);
  if (r.has('strategy') && r.has('algorithm')) r.warn('parameters.algorithm is ignored: strategy is set');
  const profileName = r.has('profileName') ? r.string('profileName', '').trim() || undefined : undefined;
  const encoded = r.child('encodedEndpointHeaderConfig');
  const ids = r.child('sessionIdConfig');
  if (strategy === 'session_id') {
    for (const [set, what] of [[encoded.has('header'), 'encodedEndpointHeaderConfig'], [r.has('headerName'), 'headerName']] as const) {
      if (set) r.warn(`parameters.${what} is ignored: strategy is session_id`);
    }
    const sources = readSessionIdSources(ids);
    const ttlS = ids.number('evictionTtlSeconds', DEFAULT_EVICTION_TTL_SECONDS, { above: 0 });
    const sweepS = ids.number('evictionSweepSeconds', DEFAULT_EVICTION_SWEEP_SECONDS, { above: 0 });
    const capacity = ids.positiveInt('maxSessions', DEFAULT_MAX_SESSIONS);
    const settings = { sources, ttlMs: ttlS * 1000, sweepMs: sweepS * 1000, capacity };
    return { strategy: new SessionIdBinding(name, settings, profileName), profileName, sources };
  }
  if (Object.keys((r.raw('sessionIdConfig') as object | null | undefined) ?? {}).length > 0) r.warn('parameters.sessionIdConfig is ignored: strategy is encoded_endpoint_header');
  // Mark its keys known so they are not refused as unknown: llm-d decodes and ignores them too.
  for (const k of ['sources', 'evictionTtlSeconds', 'evictionSweepSeconds', 'maxSessions']) ids.raw(k);
  const key = encoded.has('header') ? 'encodedEndpointHeaderConfig.header' : 'headerName';
  const header = encoded.has('header') ? encoded.string('header', DEFAULT_SESSION_HEADER) : r.string('headerName', DEFAULT_SESSION_HEADER);
  if (encoded.has('header') && r.has('headerName')) r.warn('parameters.headerName is ignored: encodedEndpointHeaderConfig.header is set');
  if (!HEADER_NAME.test(header.trim())) r.fail(key, `must be an HTTP header name, got ${JSON.stringify(header)}`);
  return { strategy: new EncodedEndpointHeader(header.trim().toLowerCase(), profileName), profileName, sources: [] };
}

/** Checks, once the config is built, that `profileName` names a profile and each attribute source's producer a plugin. */
export function linkSessionAffinity(s: SessionAffinitySettings, config: LinkableConfig): LinkReport {
  const report: LinkReport = { issues: [], warnings: [] };
  if (s.profileName !== undefined && !config.profiles.includes(s.profileName)) {
    report.warnings.push(`profileName "${s.profileName}" names no scheduling profile of this config (${config.profiles.join(', ') || 'none'}): the plugin never records or writes a session`);
  }
  s.sources.forEach((src, i) => {
    if ('header' in src || src.producer === '' || config.plugins.has(src.producer) || config.failed.has(src.producer)) return;
    report.warnings.push(`sessionIdConfig.sources[${i}].producer "${src.producer}" names no plugin of this config: that source never yields a session id`);
  });
  return report;
}
