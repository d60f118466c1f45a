/** Graceful shutdown in phases: readiness fails, the listeners keep accepting for a delay, then they drain up to a timeout. */
import type { Logger } from '../logger.js';
import { formatDuration } from '../upstream/duration.js';

/**
 * `serving` until the first signal; `not-ready` while load balancers notice that readiness fails (connections
 * are still accepted); `draining` once the listeners are closed and clients are asked to go elsewhere;
 * `stopped` when nothing is left in flight, or the drain timeout cut what was.
 */
export type ShutdownPhase = 'serving' | 'not-ready' | 'draining' | 'stopped';

export interface ShutdownOptions {
  /** How long the listeners keep accepting after readiness fails (`--shutdown-delay`), so load balancers stop sending first. */
  delayMs: number;
  /** How long requests and streams in flight may take to finish once the listeners are closed (`--drain-timeout`). */
  drainTimeoutMs: number;
}

/** 5 s, as kube-apiserver's --shutdown-delay-duration advice and the usual preStop sleep; 30 s, Kubernetes' default grace. */
export const DEFAULT_SHUTDOWN_OPTIONS: ShutdownOptions = { delayMs: 5000, drainTimeoutMs: 30_000 };

/** A front door (the HTTP gateway, the ext_proc servers) as a shutdown drives it, one method per phase. */
export interface Drainable {
  /** What is in flight, for the logs: `requests`, `streams`. */
  readonly unit: string;
  /** Readiness fails from now on (`/readyz` 503, gRPC health NOT_SERVING); new connections are still accepted. */
  failReadiness(): void;
  /**
   * Stops accepting and asks clients to go elsewhere; resolves once nothing is in flight and every connection
   * is closed. Called once.
   */
  drain(): Promise<void>;
  /** Requests or streams in flight now. */
  inFlight(): number;
  /** Cuts whatever is still in flight (the drain timeout passed); what `drain()` waits for then ends. */
  cut(): void;
}

export interface ShutdownReport {
  /** `drained`: everything in flight finished; `cut`: the drain timeout passed first. */
  outcome: 'drained' | 'cut';
  /** In flight when the listeners closed. */
  inFlightAtDrain: number;
  /** Cut at the drain timeout (0 when drained). */
  cut: number;
  /** From the signal to the end of the drain. */
  elapsedMs: number;
}

/** After a cut, how long the connections may take to close before the shutdown goes on regardless. */
const CUT_SETTLE_MS = 1000;

/** Runs one shutdown of `target` through its phases, logging each at info. Run it once per process. */
export class GracefulShutdown {
  readonly #target: Drainable;
  readonly #options: ShutdownOptions;
  readonly #log: Logger;
  #phase: ShutdownPhase = 'serving';

  constructor(target: Drainable, options: ShutdownOptions, log: Logger) {
    this.#target = target;
    this.#options = options;
    this.#log = log;
  }

  get phase(): ShutdownPhase {
    return this.#phase;
  }

  async run(): Promise<ShutdownReport> {
    if (this.#phase !== 'serving') throw new Error('a shutdown runs once');
    const t = this.#target;
    const { delayMs, drainTimeoutMs } = this.#options;
    const started = Date.now();
    this.#phase = 'not-ready';
    t.failReadiness();
    const delay =
      delayMs === 0
        ? 'no delay (--shutdown-delay 0), so the drain starts at once'
        : `new connections are still accepted for ${formatDuration(delayMs)} (--shutdown-delay) so load balancers stop sending here first`;
    this.#log.info(`shutting down: readiness fails now; ${delay}`, { [`${t.unit}_in_flight`]: t.inFlight() });
    await sleep(delayMs);

    this.#phase = 'draining';
    const inFlightAtDrain = t.inFlight();
    const wait = drainTimeoutMs > 0 ? `waiting up to ${formatDuration(drainTimeoutMs)} (--drain-timeout) for the ${t.unit} in flight to finish` : `no drain time (--drain-timeout 0): the ${t.unit} in flight are cut`;
    this.#log.info(`draining: stopped accepting connections; ${wait}`, { [`${t.unit}_in_flight`]: inFlightAtDrain });
    const drained = t.drain().then(() => 'drained' as const);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), drainTimeoutMs);
    });
    const first = await Promise.race([drained, timeout]);
    clearTimeout(timer);
    let cut = 0;
    if (first === 'timeout') {
      cut = t.inFlight();
      this.#log.warn(`drain timeout: ${formatDuration(drainTimeoutMs)} (--drain-timeout) passed; cutting what is still in flight. Raise it, and terminationGracePeriodSeconds with it, if that should have finished`, { [`${t.unit}_cut`]: cut });
      t.cut();
      await Promise.race([drained, sleep(CUT_SETTLE_MS)]);
    }
    this.#phase = 'stopped';
    const elapsedMs = Date.now() - started;
    this.#log.info(first === 'timeout' ? 'drain ended at the timeout' : `drained: every ${singular(t.unit)} in flight finished`, { elapsed_ms: elapsedMs, [`${t.unit}_at_drain`]: inFlightAtDrain, [`${t.unit}_cut`]: cut });
    return { outcome: first === 'timeout' ? 'cut' : 'drained', inFlightAtDrain, cut, elapsedMs };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function singular(unit: string): string {
  return unit.endsWith('s') ? unit.slice(0, -1) : unit;
}
