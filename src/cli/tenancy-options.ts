/**
 * `--api-keys FILE` (or `--api-key-secrets` with --kube), `--rate-limit-store` and `--rate-limit-store-failure`:
 * API keys, per-key models and limits (src/tenancy). Without them nothing is built and requests are not authenticated.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { KubeTargetOptions } from '../config/kube/kube-target.js';
import type { Logger } from '../logger.js';
import { KeyFileSource } from '../tenancy/key-file-source.js';
import { KeySecretSource } from '../tenancy/key-secret-source.js';
import type { KeySource } from '../tenancy/key-source.js';
import type { LimitStore } from '../tenancy/limit-store.js';
import { MemoryLimitStore } from '../tenancy/memory-store.js';
import { Tenancy, type StoreFailureMode } from '../tenancy/tenancy.js';
import { USAGE_EXIT_CODE } from './parse-flags.js';
import { exitStartup } from './startup-failure.js';

export interface TenancyFlags {
  apiKeys?: string;
  apiKeySecrets?: boolean;
  rateLimitStore?: string;
  rateLimitStorePasswordFile?: string;
  rateLimitStoreFailure: StoreFailureMode;
}

/** The environment variable the rate-limit store's password may come from (a Kubernetes Secret's env var). */
export const RATE_LIMIT_STORE_PASSWORD_ENV = 'INFERGATE_RATE_LIMIT_STORE_PASSWORD';

export function addTenancyOptions(cmd: Command): Command {
  return cmd
    .option('--api-keys <file>', 'a YAML file of API keys (SHA-256 hashes, from `infergate keys create`), each with its tenant, models, limits and priority; watched. Requests then need `Authorization: Bearer <key>`, `api-key` or `x-api-key` (docs/tenancy.md). Default: no keys, every request served')
    .option('--api-key-secrets', 'with --kube: the API keys are those of the Secrets labelled infergate.io/api-keys: "true" in the namespace watched (under --all-namespaces, the gateway\'s own only) (docs/tenancy.md)')
    .option('--rate-limit-store <url>', 'with API keys: share limits and quotas between replicas through Redis (redis://host:port). Default: in memory, per replica')
    .option('--rate-limit-store-password-file <path>', `a file holding the Redis password (AUTH) of --rate-limit-store, kept out of the URL, where ps would show it. Default: the ${RATE_LIMIT_STORE_PASSWORD_ENV} environment variable, else the URL's`)
    .option('--rate-limit-store-failure <mode>', 'while the rate-limit store is unreachable: fail-open (admit, uncounted) or fail-closed (503)', failureMode, 'fail-open');
}

function failureMode(v: string): StoreFailureMode {
  if (v !== 'fail-open' && v !== 'fail-closed') throw new InvalidArgumentError(`must be fail-open or fail-closed, got "${v}"`);
  return v;
}

/** The Tenancy the flags ask for (undefined: none); a bad keys file or flag combination exits 2 with the reason. */
export async function tenancyOrExit(flags: TenancyFlags, kube: KubeTargetOptions | undefined, log: Logger): Promise<Tenancy | undefined> {
  if (flags.rateLimitStorePasswordFile !== undefined && flags.rateLimitStore === undefined) usage('--rate-limit-store-password-file is the password of --rate-limit-store, which is not given');
  if (flags.apiKeys === undefined && flags.apiKeySecrets !== true) {
    if (flags.rateLimitStore !== undefined) usage('--rate-limit-store needs API keys: --api-keys FILE or --kube --api-key-secrets');
    return undefined;
  }
  if (flags.apiKeys !== undefined && flags.apiKeySecrets === true) usage('give either --api-keys FILE or --api-key-secrets, not both');
  if (flags.apiKeySecrets === true && kube === undefined) usage('--api-key-secrets reads Secrets from the Kubernetes API: it needs --kube');
  let keys: KeySource;
  try {
    keys = flags.apiKeys !== undefined ? await KeyFileSource.open(flags.apiKeys, log) : await KeySecretSource.open(kube!, log);
  } catch (e) {
    return usage(`API keys: ${(e as Error).message}`);
  }
  let store: LimitStore = new MemoryLimitStore();
  // Set below: the store's connection events go to the Tenancy, which logs an outage once with what requests see.
  const made: { tenancy?: Tenancy } = {};
  if (flags.rateLimitStore !== undefined) {
    if (!/^rediss?:\/\//.test(flags.rateLimitStore)) usage('--rate-limit-store must be a redis:// (or rediss://) URL');
    const password = storePassword(flags, process.env);
    // Loaded only here: ioredis is not needed without a shared store.
    const { RedisLimitStore } = await import('../tenancy/redis-store.js');
    let connected = false;
    store = new RedisLimitStore({
      url: flags.rateLimitStore,
      ...(password !== undefined ? { password } : {}),
      onState: (up, detail) => {
        if (up && !connected) log.info('rate-limit store connected');
        connected ||= up;
        made.tenancy?.storeState(up, detail);
      },
    });
  }
  made.tenancy = new Tenancy({ keys, store, failure: flags.rateLimitStoreFailure, log });
  return made.tenancy;
}

/**
 * The Redis password from `--rate-limit-store-password-file` (its trailing newline dropped, as `echo` writes it) or
 * the environment; undefined for none. One given beside a password in the URL is refused: which one holds is a guess.
 */
export function storePassword(flags: TenancyFlags, env: NodeJS.ProcessEnv): string | undefined {
  let password: string | undefined;
  let from = '';
  if (flags.rateLimitStorePasswordFile !== undefined) {
    try {
      password = readFileSync(flags.rateLimitStorePasswordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      usage(`--rate-limit-store-password-file: ${(e as Error).message}`);
    }
    from = '--rate-limit-store-password-file';
    if (password === '') usage(`--rate-limit-store-password-file: ${flags.rateLimitStorePasswordFile} is empty`);
  } else if (env[RATE_LIMIT_STORE_PASSWORD_ENV] !== undefined && env[RATE_LIMIT_STORE_PASSWORD_ENV] !== '') {
    password = env[RATE_LIMIT_STORE_PASSWORD_ENV];
    from = RATE_LIMIT_STORE_PASSWORD_ENV;
  }
  if (password !== undefined && flags.rateLimitStore !== undefined && urlHasPassword(flags.rateLimitStore)) {
    usage(`the Redis password is in --rate-limit-store's URL and in ${from}: give it once (out of the URL, which ps shows)`);
  }
  return password;
}

function urlHasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

function usage(message: string): never {
  exitStartup(`error: ${message}`, USAGE_EXIT_CODE);
}
