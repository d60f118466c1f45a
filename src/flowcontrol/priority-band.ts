/** One priority band: its flows (one per fairness ID), its limits, and its fairness and ordering policies. */
import type { BandFairness, FairnessPolicy } from './fairness-policy.js';
import { FlowQueue } from './flow-queue.js';
import type { OrderingPolicy } from './ordering-policy.js';
import type { QueuedRequest } from './queued-request.js';

export interface BandLimits {
  /** Requests this band may hold queued. */
  maxRequests: number;
  /** Body bytes this band may hold queued. */
  maxBytes: number;
}

export class PriorityBand {
  readonly priority: number;
  /** Replaced when the config reloads; the policies stay until the band empties. */
  limits: BandLimits;
  readonly fairness: FairnessPolicy;
  readonly ordering: OrderingPolicy;
  readonly #turns: BandFairness;
  /** Flows with requests waiting, in the order they first queued (a Map keeps insertion order). */
  readonly #flows = new Map<string, FlowQueue>();
  #nextOrder = 0;
  #length = 0;
  #bytes = 0;
  /** Kept between dispatches so a cycle allocates nothing when the set of flows did not change. */
  #active: FlowQueue[] = [];
  #activeStale = true;

  constructor(priority: number, limits: BandLimits, fairness: FairnessPolicy, ordering: OrderingPolicy) {
    this.priority = priority;
    this.limits = limits;
    this.fairness = fairness;
    this.ordering = ordering;
    this.#turns = fairness.forBand(ordering);
  }

  get length(): number {
    return this.#length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Whether one more request of `bytes` fits this band's limits. */
  fits(bytes: number): boolean {
    return this.#length + 1 <= this.limits.maxRequests && this.#bytes + bytes <= this.limits.maxBytes;
  }

  add(r: QueuedRequest): void {
    let flow = this.#flows.get(r.fairnessId);
    if (!flow) {
      flow = new FlowQueue(r.fairnessId, this.priority, this.ordering, this.#nextOrder++);
      this.#flows.set(r.fairnessId, flow);
      this.#activeStale = true;
    }
    flow.add(r);
    this.#length++;
    this.#bytes += r.bytes;
  }

  /**
   * Takes the next request by the fairness policy, then the chosen flow's ordering policy. With `eligible`, only
   * among the flows it lets go (fairShareHoldback); undefined when none may.
   */
  take(eligible?: (flow: FlowQueue) => boolean): QueuedRequest | undefined {
    if (this.#length === 0) return undefined;
    if (this.#activeStale) {
      this.#active = [...this.#flows.values()];
      this.#activeStale = false;
    }
    let flows = this.#active;
    if (eligible !== undefined) {
      flows = flows.filter(eligible);
      if (flows.length === 0) return undefined;
    }
    const flow = this.#turns.select(flows);
    const r = flow.take()!;
    this.#counted(flow, r);
    return r;
  }

  /** A request that left before dispatch. */
  remove(r: QueuedRequest): void {
    const flow = this.#flows.get(r.fairnessId);
    if (!flow) return;
    flow.removed(r);
    this.#counted(flow, r);
  }

  /** Flows with requests waiting, for metrics and /debug. */
  flows(): IterableIterator<FlowQueue> {
    return this.#flows.values();
  }

  #counted(flow: FlowQueue, r: QueuedRequest): void {
    this.#length--;
    this.#bytes -= r.bytes;
    if (flow.length === 0) {
      this.#flows.delete(flow.fairnessId);
      this.#activeStale = true;
    }
  }
}
