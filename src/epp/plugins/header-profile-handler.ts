/**
 * `header-profile-handler` (llm-d): runs the one scheduling profile a request header names. For a caller that knows
 * which stage each call is for (a coordinator asking for an encode, a prefill and a decode pod in three calls) and
 * wants one picker for every stage instead of one per stage.
 */
import { GatewayError } from '../../errors.js';
import type { ConfigLinked, LinkableConfig, LinkReport, SchedulingContext } from '../framework/plugin.js';
import type { ProfileHandler } from '../framework/profile-handler.js';
import type { PluginFactory } from '../framework/registry.js';
import type { CycleResult } from '../framework/run-cycle.js';
import type { SchedulingProfile } from '../framework/scheduling-profile.js';

export const HEADER_PROFILE_HANDLER_TYPE = 'header-profile-handler';
/** llm-d's defaults. */
export const DEFAULT_PROFILE_HEADER = 'EPP-Profile';
export const DEFAULT_PROFILE = 'decode';

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * With one profile, runs it whatever the header says (a deployment scaled down to one stage). With several: the
 * profile the header names, matched exactly; `defaultProfile` when the header is missing or blank. A header naming
 * no profile is the caller's mistake: 400 `bad_request` naming the header and the profiles (llm-d answers 429
 * there, its own README calls that misleading, and logs the reason).
 */
export class HeaderProfileHandler implements ProfileHandler, ConfigLinked {
  readonly type = HEADER_PROFILE_HANDLER_TYPE;
  readonly name: string;
  readonly header: string;
  readonly defaultProfile: string;

  constructor(name: string = HEADER_PROFILE_HANDLER_TYPE, header = DEFAULT_PROFILE_HEADER, defaultProfile = DEFAULT_PROFILE) {
    this.name = name;
    this.header = header.toLowerCase();
    this.defaultProfile = defaultProfile;
  }

  pickProfiles(ctx: SchedulingContext, profiles: ReadonlyMap<string, SchedulingProfile>, results: ReadonlyMap<string, CycleResult>): readonly SchedulingProfile[] {
    if (results.size > 0) return [];
    if (profiles.size === 1) return [profiles.values().next().value!];
    const asked = ctx.request.header(this.header)?.trim();
    const name = asked === undefined || asked === '' ? this.defaultProfile : asked;
    const profile = profiles.get(name);
    if (profile !== undefined) return [profile];
    const known = [...profiles.keys()].join(', ');
    if (name === asked) throw new GatewayError('bad_request', `header ${this.header}: "${asked}" names no scheduling profile of this pool's EndpointPickerConfig; profiles: ${known}`, this.header);
    throw new GatewayError('bad_request', `the request has no ${this.header} header and the default profile "${this.defaultProfile}" (header-profile-handler's defaultProfile) is not one of this pool's profiles (${known}); send ${this.header}`, this.header);
  }

  primaryProfile(_ctx: SchedulingContext, results: ReadonlyMap<string, CycleResult>): string | undefined {
    return results.keys().next().value;
  }

  /** A `defaultProfile` naming no profile (with several) makes every request without the header fail: said at load. */
  link(config: LinkableConfig): LinkReport {
    const report: LinkReport = { issues: [], warnings: [] };
    if (config.profiles.length > 1 && !config.profiles.includes(this.defaultProfile)) {
      report.warnings.push(`defaultProfile "${this.defaultProfile}" names no scheduling profile (${config.profiles.join(', ')}): a request without the ${this.header} header gets 400`);
    }
    return report;
  }
}

/** Parameters: `headerName` (default `EPP-Profile`, matched case-insensitively), `defaultProfile` (default `decode`). */
export const headerProfileHandlerFactory: PluginFactory = (name, _p, r) => {
  const header = r.string('headerName', DEFAULT_PROFILE_HEADER).trim();
  if (!HEADER_NAME.test(header)) r.fail('headerName', `must be an HTTP header name, got ${JSON.stringify(header)}`);
  const def = r.string('defaultProfile', DEFAULT_PROFILE).trim() || DEFAULT_PROFILE;
  return new HeaderProfileHandler(name, header, def);
};
