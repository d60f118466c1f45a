/**
 * Stands between a configuration source (files or the Kubernetes API) and the gateway: a change that
 * removes too much (see edit-risk.ts) is held back, and applies only once it has stayed in place for the
 * settle period, or at once with --allow-empty-config. What is held, and the last rejected change, are
 * reported for /readyz.
 */
import type { Logger } from '../logger.js';
import { assessEdit, type EditCounts, type EditRisk, type EditRules } from './edit-risk.js';
import type { ConfigSnapshot } from './snapshot.js';

export interface EditGuardOptions {
  /** Puts a snapshot in force (Gateway.applySnapshot); a throw rejects that change. */
  apply: (snapshot: ConfigSnapshot) => Promise<void>;
  log: Logger;
  /** How long a held change must stay in place before it applies (ms). */
  settlePeriodMs: number;
  /** Apply a change that removes too much at once, with a warning (--allow-empty-config). */
  allowEmpty: boolean;
  rules: EditRules;
}

/**
 * What the source knows about a change it offers. `afterReconnect`: its watches lost the API server moments ago
 * and are listing again (Kubernetes). Their lists come back one kind at a time, and a list that comes back empty
 * is what an API server that lost its state answers: a pool left with no endpoints is then held like a file's
 * selector typo, until the other lists are in or the settle period passes.
 */
export interface OfferContext {
  afterReconnect?: boolean;
}

/** Defaults of the flags: --config-settle-period 30000, --max-endpoint-loss-percent 50. */
export const DEFAULT_SETTLE_PERIOD_MS = 30_000;
export const DEFAULT_MAX_ENDPOINT_LOSS_PERCENT = 50;

/** The flags (`serve`, `extproc`) as the composition roots take them; unset fields take the defaults above. */
export interface ConfigEditOptions {
  /** --allow-empty-config: apply at once what would be held back, and accept files left with no documents. */
  allowEmptyConfig?: boolean;
  /** --config-settle-period (ms). */
  settlePeriodMs?: number;
  /** --max-endpoint-loss-percent (0-100); files only. */
  maxEndpointLossPercent?: number;
}

/**
 * The guard for a source. Files get every rule; the Kubernetes API gets the emptied-configuration, every-pool
 * and every-route rules only (not the endpoint-loss, pool-emptied and file rules): its pods come and go with the cluster's own rollout controls (maxUnavailable,
 * PodDisruptionBudgets), and holding a scale-down back would keep sending requests to pods being deleted. Right
 * after its watches reconnect (OfferContext), it gets the pool-emptied rule too.
 */
export function editGuardFor(source: 'files' | 'kubernetes', edits: ConfigEditOptions, log: Logger, apply: (snapshot: ConfigSnapshot) => Promise<void>): EditGuard {
  const rules: EditRules = source === 'files' ? { maxEndpointLoss: (edits.maxEndpointLossPercent ?? DEFAULT_MAX_ENDPOINT_LOSS_PERCENT) / 100, fileRemovals: true, poolsEmptied: true } : {};
  return new EditGuard({ apply, log, settlePeriodMs: edits.settlePeriodMs ?? DEFAULT_SETTLE_PERIOD_MS, allowEmpty: edits.allowEmptyConfig === true, rules });
}

/** A change held back: the newest candidate, and since when what it removes has been in place. */
interface Held {
  snapshot: ConfigSnapshot;
  reasons: string[];
  counts: EditCounts;
  since: number;
  appliesAt: number;
  /** Which flags apply it at once, e.g. `run with --allow-empty-config`. */
  toApply: string;
}

/** The `config` entry of /readyz details; undefined when the source's latest change is in force. */
export interface ConfigReadiness {
  held?: {
    reasons: string[];
    held_since: string;
    applies_at: string;
    /** Counts in force -> held, e.g. `{pools: [2, 0]}`. */
    change: EditCounts;
    to_confirm: string;
    to_cancel: string;
  };
  rejected?: { at: string; message: string };
}

export class EditGuard {
  readonly #o: EditGuardOptions;
  #inForce: ConfigSnapshot | undefined;
  #held: Held | undefined;
  #timer: NodeJS.Timeout | undefined;
  #rejected: { at: number; message: string } | undefined;
  /** Offers and the settle timer run one at a time, in order. */
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(opts: EditGuardOptions) {
    this.#o = opts;
  }

  /** The snapshot the gateway last put in force through this guard. */
  get inForce(): ConfigSnapshot | undefined {
    return this.#inForce;
  }

  /** The snapshot held back, if any. */
  get held(): ConfigSnapshot | undefined {
    return this.#held?.snapshot;
  }

  /**
   * The source's newest snapshot: applied at once, or held back (resolves either way). A newer offer replaces
   * a held one and is judged afresh against what is in force. Rejects when applying it fails.
   */
  offer(snapshot: ConfigSnapshot, context: OfferContext = {}): Promise<void> {
    return this.#serial(() => this.#offer(snapshot, context.afterReconnect === true ? { ...this.#o.rules, poolsEmptied: true } : this.#o.rules));
  }

  /**
   * Records a change the source could not even build (a YAML error, a half-written file), for /readyz. A change
   * held back is dropped with it: the source's newest state is not that change, so whether what it removes is
   * still in place is unknown (the file may have been restored in the same edit), and the settle timer must not
   * confirm it. The next change the source can build is judged afresh, and held again if it still removes as much.
   */
  rejected(message: string): void {
    this.#rejected = { at: Date.now(), message };
    const held = this.#held;
    if (!held) return;
    this.#drop();
    this.#o.log.warn(
      `the configuration change held back since ${new Date(held.since).toISOString()} will not apply: a newer change was rejected, ` +
        `so it is not known to be still in place (${held.reasons.join('; ')}). Once the configuration reads again, a change that still removes as much is held afresh`,
      { version: held.snapshot.version },
    );
  }

  /** For /readyz details under `config`. */
  report(): ConfigReadiness | undefined {
    const h = this.#held;
    const r = this.#rejected;
    if (!h && !r) return undefined;
    return {
      ...(h
        ? {
            held: {
              reasons: h.reasons,
              held_since: new Date(h.since).toISOString(),
              applies_at: new Date(h.appliesAt).toISOString(),
              change: h.counts,
              to_confirm: `leave the change in place until applies_at; to apply such changes at once, ${h.toApply}`,
              to_cancel: 'restore the configuration that is in force',
            },
          }
        : {}),
      ...(r ? { rejected: { at: new Date(r.at).toISOString(), message: r.message } } : {}),
    };
  }

  close(): void {
    this.#closed = true;
    this.#clearTimer();
  }

  async #offer(snapshot: ConfigSnapshot, rules: EditRules): Promise<void> {
    if (this.#closed) return;
    this.#rejected = undefined;
    const inForce = this.#inForce;
    if (!inForce) return this.#apply(snapshot);
    const risk = assessEdit(inForce, snapshot, rules);
    const what = risk.reasons.join('; ');
    if (risk.reasons.length === 0) {
      if (this.#held) this.#o.log.info('a newer configuration change replaces the one held back; it removes nothing that needs holding', { version: snapshot.version });
      this.#drop();
      return this.#apply(snapshot);
    }
    if (this.#o.allowEmpty) {
      this.#o.log.warn(`applying a configuration change at once (--allow-empty-config): ${what}`, { version: snapshot.version });
      this.#drop();
      return this.#apply(snapshot);
    }
    const held = this.#held;
    // The clock measures how long what the change removes has been in place: a newer change removing the
    // same things (a file re-saved, a pod event during an empty list) keeps it; anything else restarts it.
    if (held && held.reasons.join('\n') === risk.reasons.join('\n')) {
      held.snapshot = snapshot;
      held.counts = risk.counts;
      held.toApply = howToApply(risk);
      this.#o.log.debug('a newer configuration change replaces the one held back; it removes the same, the settle period goes on', { version: snapshot.version });
      return;
    }
    const now = Date.now();
    const toApply = howToApply(risk);
    this.#held = { snapshot, reasons: risk.reasons, counts: risk.counts, since: now, appliesAt: now + this.#o.settlePeriodMs, toApply };
    this.#clearTimer();
    this.#timer = setTimeout(() => void this.#serial(() => this.#confirm()), this.#o.settlePeriodMs);
    this.#timer.unref();
    this.#o.log.warn(
      `configuration change held back: ${what}. The configuration in force (version ${inForce.version}) keeps serving. ` +
        `The change applies at ${new Date(now + this.#o.settlePeriodMs).toISOString()} if it is still in place then (--config-settle-period ${this.#o.settlePeriodMs} ms); ` +
        `to apply it now, ${toApply}; to cancel it, restore the configuration. /readyz shows it under details.config`,
      { version: snapshot.version, ...(held ? { replaces: held.snapshot.version } : {}) },
    );
  }

  /** The settle period passed with the change still in place: it is confirmed. */
  async #confirm(): Promise<void> {
    const held = this.#held;
    this.#timer = undefined;
    if (!held || this.#closed) return;
    this.#held = undefined;
    this.#o.log.warn(`applying the configuration change held back since ${new Date(held.since).toISOString()}: it stayed in place for ${this.#o.settlePeriodMs} ms; ${held.reasons.join('; ')}`, { version: held.snapshot.version });
    try {
      await this.#apply(held.snapshot);
    } catch (e) {
      this.#o.log.error(`configuration change rejected; the last good configuration stays in force\n${(e as Error).message}`);
    }
  }

  async #apply(snapshot: ConfigSnapshot): Promise<void> {
    try {
      await this.#o.apply(snapshot);
    } catch (e) {
      this.rejected((e as Error).message);
      throw e;
    }
    this.#inForce = snapshot;
  }

  #drop(): void {
    this.#held = undefined;
    this.#clearTimer();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(fn);
    // The queue goes on after a failure; the caller of this step still sees it.
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/** The flags that let a held change apply at once: --allow-empty-config always, and for an endpoint loss the percentage that allows it. */
function howToApply(risk: EditRisk): string {
  const n = risk.endpointLossPercentNeeded;
  if (n === undefined) return 'run with --allow-empty-config';
  // The flag stops at 100 (the rule off): "100 or more" would name values it refuses.
  if (risk.reasons.length === 1) return `run with --max-endpoint-loss-percent ${n}${n < 100 ? ' (or more)' : ''} to allow this endpoint loss, or with --allow-empty-config`;
  return `run with --allow-empty-config (--max-endpoint-loss-percent ${n}${n < 100 ? ' or more' : ''} would allow the endpoint loss, not the rest)`;
}
