/**
 * `fairShareHoldback` (infergate's own addition; llm-d has no equivalent): while several flows are active, a
 * flow may have at most its fair share of the pool's in-flight capacity, so slots that free are held back for
 * the other flows instead of refilling with a flood the moment they free. Work-conserving with one flow.
 */

/** How long a flow still counts as active after its last request arrived, when nothing of it waits or runs. */
export const DEFAULT_ACTIVE_WINDOW_MS = 1000;

export interface FairShareHoldbackConfig {
  /** A flow with nothing waiting or in flight still counts as active this long after its last arrival. */
  activeWindowMs: number;
}

/** A flow key (llm-d's FlowKey): the fairness ID and the priority. `FlowQueue` and `AdmitRequest` are ones. */
export interface FlowRef {
  readonly fairnessId: string;
  readonly priority: number;
}

/** What the ledger knows of one flow. */
export interface FlowLoad {
  readonly fairnessId: string;
  readonly priority: number;
  /** Requests of this flow dispatched and not yet released. */
  inFlight: number;
  /** Requests of this flow waiting in its queue. */
  queued: number;
  lastArrivalAt: number;
}

/**
 * One reading of which flows are active, taken once per dispatch decision. A flow's share is
 * `ceil(capacity / n)`, n the active flows at its priority or above (itself included): a lower band never
 * holds a higher one back, and a flow alone at its level is not limited (work-conserving).
 */
export class ShareReading {
  /** Active flows at each priority or above. */
  readonly #atOrAbove: ReadonlyMap<number, number>;
  readonly #ledger: FairShareHoldback;
  readonly capacity: number;

  constructor(ledger: FairShareHoldback, atOrAbove: ReadonlyMap<number, number>, capacity: number) {
    this.#ledger = ledger;
    this.#atOrAbove = atOrAbove;
    this.capacity = capacity;
  }

  /** Active flows competing with a flow of `priority` (at least 1: the flow asking is active). */
  activeFlows(priority: number): number {
    return Math.max(1, this.#atOrAbove.get(priority) ?? 0);
  }

  /** The most requests a flow of `priority` may have in flight; Infinity when it is alone at its level. */
  share(priority: number): number {
    const n = this.activeFlows(priority);
    return n <= 1 ? Infinity : Math.max(1, Math.ceil(this.capacity / n));
  }

  /** Whether one more request of `f` may be dispatched now (the saturation gate being open). */
  mayDispatch(f: FlowRef): boolean {
    return this.#ledger.inFlight(f) < this.share(f.priority);
  }
}

/** The per-flow ledger: in flight, waiting and last arrival, per flow key; entries go once inactive. */
export class FairShareHoldback {
  config: FairShareHoldbackConfig;
  readonly #flows = new Map<string, FlowLoad>();

  constructor(config: FairShareHoldbackConfig) {
    this.config = config;
  }

  /** A request of `f` arrived (before it is dispatched or queued). */
  arrived(f: FlowRef, now: number): void {
    this.#load(f).lastArrivalAt = now;
  }

  queued(f: FlowRef): void {
    this.#load(f).queued++;
  }

  /** A queued request left without being dispatched (TTL, client gone, shutdown). */
  unqueued(f: FlowRef): void {
    const l = this.#flows.get(keyOf(f));
    if (l !== undefined && l.queued > 0) l.queued--;
  }

  /** A request of `f` was dispatched, from its queue or at once. */
  dispatched(f: FlowRef, fromQueue: boolean): void {
    const l = this.#load(f);
    l.inFlight++;
    if (fromQueue && l.queued > 0) l.queued--;
  }

  /**
   * A request of `f` finished. Without `f` (a caller that does not say which flow), the flow with the most in
   * flight gives one back: the ledger's total then still matches the pool's, so no flow stays stuck at its share.
   */
  released(f: FlowRef | undefined): void {
    let l = f === undefined ? undefined : this.#flows.get(keyOf(f));
    if (f === undefined) for (const x of this.#flows.values()) if (x.inFlight > 0 && (l === undefined || x.inFlight > l.inFlight)) l = x;
    // A flow unknown here was dispatched before the holdback was turned on: nothing was counted for it.
    if (l !== undefined && l.inFlight > 0) l.inFlight--;
  }

  inFlight(f: FlowRef): number {
    return this.#flows.get(keyOf(f))?.inFlight ?? 0;
  }

  /** Flows the ledger holds, for /debug. */
  flows(): IterableIterator<FlowLoad> {
    return this.#flows.values();
  }

  isActive(l: FlowLoad, now: number): boolean {
    return l.inFlight > 0 || l.queued > 0 || now - l.lastArrivalAt < this.config.activeWindowMs;
  }

  /** Which flows are active now, against `capacity` requests in flight; forgets flows no longer active. O(flows). */
  read(now: number, capacity: number): ShareReading {
    const perPriority = new Map<number, number>();
    for (const [key, l] of this.#flows) {
      if (this.isActive(l, now)) perPriority.set(l.priority, (perPriority.get(l.priority) ?? 0) + 1);
      else this.#flows.delete(key);
    }
    const atOrAbove = new Map<number, number>();
    let sum = 0;
    for (const p of [...perPriority.keys()].sort((a, b) => b - a)) {
      sum += perPriority.get(p)!;
      atOrAbove.set(p, sum);
    }
    return new ShareReading(this, atOrAbove, capacity);
  }

  #load(f: FlowRef): FlowLoad {
    const key = keyOf(f);
    let l = this.#flows.get(key);
    if (l === undefined) {
      l = { fairnessId: f.fairnessId, priority: f.priority, inFlight: 0, queued: 0, lastArrivalAt: -Infinity };
      this.#flows.set(key, l);
    }
    return l;
  }
}

function keyOf(f: FlowRef): string {
  return `${f.priority}\u0000${f.fairnessId}`;
}
