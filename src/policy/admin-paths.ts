/**
 * vLLM's admin and control endpoints, which the gateway refuses unless the operator allows them: through a
 * public route they let any client unload adapters, load one from an attacker's URL, reset caches, put the
 * engine to sleep, pause it, or swap its weights (issue #10).
 */
import { GatewayError } from '../errors.js';
import { normalizePath } from './normalize-path.js';

/**
 * Every state-changing or internals-revealing path of vLLM's API server (vllm/entrypoints/serve/*: lora,
 * cache, sleep, rpc, profile, elastic_ep, fault_tolerance, pause, dev/rlhf, server_info), as vLLM spells them. Each is also
 * refused under `/v1`, where some of them live and a route prefix would send the others.
 */
export const VLLM_ADMIN_PATHS: readonly string[] = [
  // LoRA adapters at run time (VLLM_ALLOW_RUNTIME_LORA_UPDATING)
  '/v1/load_lora_adapter',
  '/v1/unload_lora_adapter',
  // caches
  '/reset_prefix_cache',
  '/reset_mm_cache',
  '/reset_encoder_cache',
  // sleep mode
  '/sleep',
  '/wake_up',
  '/is_sleeping',
  // dev mode (VLLM_SERVER_DEV_MODE)
  '/collective_rpc',
  '/server_info',
  // profiler
  '/start_profile',
  '/stop_profile',
  // elastic expert parallelism
  '/scale_elastic_ep',
  '/is_scaling_elastic_ep',
  // fault tolerance of DP+EP deployments (vLLM PR #44428): pauses or retries the engine, reports every rank's state
  '/fault_tolerance/apply',
  '/fault_tolerance/status',
  // pausing and weight updates (RL training loops)
  '/pause',
  '/resume',
  '/is_paused',
  '/abort_requests',
  '/init_weight_transfer_engine',
  '/start_weight_update',
  '/start_draft_weight_update',
  '/update_weights',
  '/finish_weight_update',
  '/update_weight_version',
  '/weight_checker',
  '/weight_info',
  '/get_world_size',
];

/** Each admin path as a request reaches it, normalised: at the root and under `/v1`. */
function adminForms(): Set<string> {
  const forms = new Set<string>();
  for (const p of VLLM_ADMIN_PATHS) {
    const root = normalizePath(p.replace(/^\/v1\//, '/'));
    forms.add(root).add(`/v1${root}`);
  }
  return forms;
}

const ADMIN_FORMS = adminForms();

/**
 * The entries of an `--allow-admin-paths` list that name no admin path (`*` aside): allowing one changes
 * nothing, since only admin paths are refused, so it is a typo (`/v1/load_lora_adaptor`) or a misunderstanding.
 */
export function notAdminPaths(allow: readonly string[]): string[] {
  return allow.filter((p) => p !== '*' && !ADMIN_FORMS.has(normalizePath(p)));
}

/** `blocked`'s memo for a path that is not blocked (no normalised path is empty). */
const NOT_BLOCKED = '';
const MAX_VERDICTS = 1024;

/** Decides whether a request path is an admin path the gateway refuses; built once from the allow-list. */
export class AdminPathPolicy {
  readonly #blocked = new Set<string>();
  readonly #admin = new Set<string>();
  /** Recent raw paths and what `blocked` said of them. */
  readonly #verdicts = new Map<string, string>();
  readonly allowed: readonly string[];

  /** `allow` lists admin paths to let through (as vLLM spells them, with or without `/v1`), or `*` for all. */
  constructor(allow: readonly string[] = []) {
    const all = allow.includes('*');
    const allowedSet = new Set(allow.map((p) => normalizePath(p)));
    this.allowed = all ? ['*'] : [...allowedSet];
    for (const form of ADMIN_FORMS) {
      this.#admin.add(form);
      if (!all && !allowedSet.has(form)) this.#blocked.add(form);
    }
  }

  /** The normalised admin path `rawPath` reaches, or undefined when it is not one (or is allowed). */
  blocked(rawPath: string): string | undefined {
    if (this.#blocked.size === 0) return undefined;
    // Traffic uses a handful of paths: each is judged once, then looked up (NOT_BLOCKED marks a clean one).
    const seen = this.#verdicts.get(rawPath);
    if (seen !== undefined) return seen === NOT_BLOCKED ? undefined : seen;
    const hit = within(this.#blocked, normalizePath(rawPath));
    // Bounded: a client sending ever new paths empties it rather than growing it.
    if (this.#verdicts.size >= MAX_VERDICTS) this.#verdicts.clear();
    this.#verdicts.set(rawPath, hit ?? NOT_BLOCKED);
    return hit;
  }

  /**
   * Whether `rawPath` is an admin path, allowed or not. An allowed one carries no `model` in its body, so it is
   * routed on its path and headers alone.
   */
  isAdmin(rawPath: string): boolean {
    return within(this.#admin, normalizePath(rawPath)) !== undefined;
  }

  /** Throws 403 `admin_path_blocked` when `rawPath` reaches a refused admin path. */
  check(rawPath: string): void {
    const hit = this.blocked(rawPath);
    if (hit === undefined) return;
    throw new GatewayError(
      'admin_path_blocked',
      `${hit} is a model server admin endpoint and the gateway does not forward it${hit !== rawPath.toLowerCase() ? ` (requested as ${JSON.stringify(rawPath)})` : ''}. Call the pod directly from inside the cluster, or start the gateway with --allow-admin-paths ${hit}`,
    );
  }
}

/** The member of `set` that `path` is or lies beneath (`/pause/step` is beneath `/pause`), if any. */
function within(set: ReadonlySet<string>, path: string): string | undefined {
  for (let end = path.length; end > 0; end = path.lastIndexOf('/', end - 1)) {
    const prefix = path.slice(0, end);
    if (set.has(prefix)) return prefix;
  }
  return undefined;
}
