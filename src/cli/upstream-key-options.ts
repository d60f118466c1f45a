/**
 * `--upstream-api-key-file`, the key every pool's pods expect unless the pool names its own (`serve`,
 * `extproc`, `explain`, `validate`). The key is never taken on the command line, where `ps` would show it.
 */
import type { Command } from 'commander';
import { API_KEY_ENV, API_KEY_FILE_ANNOTATION, API_KEY_SECRET_ANNOTATION, defaultApiKeySource, describeApiKeySource, type ApiKeySource } from '../upstream/api-key-source.js';
import { readApiKey } from '../upstream/read-api-key.js';
import { USAGE_EXIT_CODE } from './parse-flags.js';
import { exitStartup } from './startup-failure.js';

export interface UpstreamKeyFlags {
  upstreamApiKeyFile?: string;
}

export function addUpstreamKeyOption(cmd: Command): Command {
  return cmd.option(
    '--upstream-api-key-file <path>',
    `a file holding the API key the model servers expect (vLLM --api-key), sent as "Authorization: Bearer" to every pool's pods (discovery, scraping, requests; it replaces the client's); a pool may name its own with the annotation ${API_KEY_FILE_ANNOTATION} or ${API_KEY_SECRET_ANNOTATION}. Default: the ${API_KEY_ENV} environment variable, else none`,
  );
}

/**
 * The source of every pool's key from the flag or the environment (undefined: neither is set). A flag naming
 * a file that cannot be read, or a key that cannot be sent, exits 2 now rather than failing every pod later.
 */
export async function upstreamKeySourceOrExit(flags: UpstreamKeyFlags, env: NodeJS.ProcessEnv = process.env): Promise<ApiKeySource | undefined> {
  const source = defaultApiKeySource(flags.upstreamApiKeyFile, env);
  if (source === undefined) return undefined;
  try {
    await readApiKey(source, undefined);
  } catch (e) {
    exitStartup(`error: ${describeApiKeySource(source)}: ${(e as Error).message}`, USAGE_EXIT_CODE);
  }
  return source;
}
