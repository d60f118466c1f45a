/** `serve --allowed-origins --allowed-methods --allowed-headers --allow-credentials`: vLLM's CORS flags, by the same names and syntax. */
import { InvalidArgumentError, type Command } from 'commander';
import type { CorsPolicy } from '../proxy/cors.js';
import { exitStartup } from './startup-failure.js';

export interface CorsFlags {
  allowedOrigins?: string[];
  allowedMethods?: string[];
  allowedHeaders?: string[];
  allowCredentials?: boolean;
}

export function addCorsOptions(cmd: Command): Command {
  return cmd
    .option('--allowed-origins <list>', `origins web pages may call the gateway from, as vLLM takes them: a JSON list ('["https://app.example.com"]', '["*"]' for any) or comma-separated. Default: none, CORS off (preflights get 403 cors_not_allowed)`, corsList('--allowed-origins', true))
    .option('--allowed-methods <list>', `with --allowed-origins: the methods they may use, a JSON list or comma-separated (default '["*"]', as vLLM)`, corsList('--allowed-methods', false))
    .option('--allowed-headers <list>', `with --allowed-origins: the request headers they may send, a JSON list or comma-separated (default '["*"]', as vLLM)`, corsList('--allowed-headers', false))
    .option('--allow-credentials', 'with --allowed-origins: allow credentials (cookies, HTTP auth); the origin is then echoed, never *');
}

/** The policy the flags set, or undefined (CORS off); a usage error (exit 2) for a CORS flag without --allowed-origins. */
export function corsPolicyOrExit(flags: CorsFlags): CorsPolicy | undefined {
  if (flags.allowedOrigins === undefined) {
    if (flags.allowedMethods !== undefined || flags.allowedHeaders !== undefined || flags.allowCredentials === true) {
      exitStartup('error: --allowed-methods, --allowed-headers and --allow-credentials apply to the origins --allowed-origins names; without it CORS is off', 2);
    }
    return undefined;
  }
  return { origins: flags.allowedOrigins, methods: flags.allowedMethods ?? ['*'], headers: flags.allowedHeaders ?? ['*'], credentials: flags.allowCredentials === true };
}

/** vLLM's JSON list (`'["a","b"]'`), or a comma-separated list; repeated flags add up. Origins are checked to be origins. */
function corsList(flag: string, origins: boolean): (value: string, previous?: string[]) => string[] {
  return (value, previous = []) => {
    let items: unknown;
    const text = value.trim();
    if (text.startsWith('[')) {
      try {
        items = JSON.parse(text);
      } catch {
        throw new InvalidArgumentError(`${flag} must be a JSON list of strings or a comma-separated list, got ${value}`);
      }
    } else items = text.split(',');
    if (!Array.isArray(items) || items.some((i) => typeof i !== 'string')) throw new InvalidArgumentError(`${flag} must be a JSON list of strings or a comma-separated list, got ${value}`);
    const list = (items as string[]).map((s) => s.trim()).filter((s) => s !== '');
    for (const o of origins ? list : []) {
      if (o !== '*' && !ORIGIN.test(o)) throw new InvalidArgumentError(`${flag}: ${o} is not an origin; an origin is scheme://host[:port] with no path, as a browser sends it (https://app.example.com), or *`);
    }
    return [...previous, ...list];
  };
}

const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/\s?#]+$/i;
