/**
 * One pool's flow control: holds requests while the pool is saturated and dispatches them as room frees,
 * strict priority between bands, the band's fairness policy between flows, the flow's ordering policy
 * within. Dispatch only releases a request; the endpoint is picked after (late binding).
 */
import type { Endpoint } from '../epp/datastore/endpoint.js';
import type { BandConfig, FlowControlConfig } from './flow-control-config.js';
import { FlowControlRejection, rejectedContextCancelled, rejectedNoEndpoints, rejectedSaturated, rejectedShuttingDown, rejectedTtlExpired } from './dropped-reason.js';
import { FairShareHoldback, type FlowRef, type ShareReading } from './fair-share-holdback.js';
import type { FlowQueue } from './flow-queue.js';
import { PriorityBand } from './priority-band.js';
import { QueuedRequest } from './queued-request.js';
import { readGate, type GateReading } from './saturation-gate.js';

/** How often a saturated pool is looked at again while requests wait (llm-d's cycle is ~1 ms; scrapes are 50 ms). */
export const DISPATCH_POLL_MS = 5;

/** What a controller reports to metrics; every method is optional work the controller does not wait on. */
export interface FlowControlEvents {
  /** A request left its queue (or never entered one, with `waitedMs` 0): dispatched or dropped. */
  left?(pool: string, r: { fairnessId: string; priority: number; model?: string | undefined; target?: string | undefined }, outcome: string, waitedMs: number): void;
  /** One dispatch cycle ran, with the reading it took. */
  cycle?(pool: string, seconds: number, reading: GateReading): void;
  /**
   * Admission took `seconds`: `Dispatched` (gone at once), the rejection's outcome, or `NotYetFinalized` (queued),
   * as llm-d's enqueue step reports.
   */
  enqueued?(r: { fairnessId: string; priority: number }, outcome: string, seconds: number): void;
}

export interface AdmitRequest {
  fairnessId: string;
  priority: number;
  bytes: number;
  /** For metrics labels only. */
  model?: string | undefined;
  target?: string | undefined;
}

/** A queued request and its labels. */
export class Ticket extends QueuedRequest {
  model: string | undefined;
  target: string | undefined;
}

export class FlowController {
  readonly pool: string;
  #config: FlowControlConfig;
  readonly #endpoints: () => readonly Endpoint[];
  readonly #events: FlowControlEvents;
  readonly #now: () => number;
  readonly #bands = new Map<number, PriorityBand>();
  /** Bands by priority, highest first. */
  #order: PriorityBand[] = [];
  #length = 0;
  #bytes = 0;
  /** Requests this controller let through that have not finished (the concurrency detector's own count). */
  #inFlight = 0;
  #seq = 0;
  /** The oldest arrival still waiting, as of the last sweep: no sweep walks the queues before it can expire. */
  #oldest = Infinity;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  /** Per-flow in-flight counts and shares, when `fairShareHoldback` is configured (infergate's own). */
  #holdback: FairShareHoldback | undefined;
  /** From shutdown on, requests that would wait are refused; the ones waiting still dispatch until rejectQueued. */
  #closing = false;

  constructor(pool: string, config: FlowControlConfig, endpoints: () => readonly Endpoint[], events: FlowControlEvents = {}, now: () => number = Date.now) {
    this.pool = pool;
    this.#config = config;
    this.#endpoints = endpoints;
    this.#events = events;
    this.#now = now;
    if (config.fairShareHoldback !== undefined) this.#holdback = new FairShareHoldback(config.fairShareHoldback);
  }

  get config(): FlowControlConfig {
    return this.#config;
  }

  /**
   * A reloaded config: limits, TTLs and the detector apply at once. A band with requests waiting keeps them
   * and its policies (its fairness state included); an empty one is rebuilt from the new config when next used.
   */
  reconfigure(config: FlowControlConfig): void {
    this.#config = config;
    // The ledger stays across reloads; turned on now, it knows nothing of the requests already in flight.
    if (config.fairShareHoldback === undefined) this.#holdback = undefined;
    else if (this.#holdback === undefined) this.#holdback = new FairShareHoldback(config.fairShareHoldback);
    else this.#holdback.config = config.fairShareHoldback;
    for (const [priority, band] of this.#bands) {
      if (band.length === 0) this.#bands.delete(priority);
      else {
        const cfg = this.#bandConfig(priority);
        band.limits = { maxRequests: cfg.maxRequests, maxBytes: cfg.maxBytes };
      }
    }
    this.#order = [...this.#bands.values()].sort((a, b) => b.priority - a.priority);
  }

  /** Requests waiting. */
  get length(): number {
    return this.#length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * The saturation detector's reading now, for /debug and metrics. Read when asked, not kept from the last
   * admission or dispatch cycle: no cycle runs once the queues are empty, so a kept reading would show a pool
   * that has gone idle as saturated (and not dispatching) until the next request.
   */
  reading(now: number = this.#now()): GateReading {
    return readGate(this.#config.detector, this.#endpoints(), now, this.#inFlight, this.#config.usageCeiling);
  }

  /** The per-flow ledger when `fairShareHoldback` is on (for /debug). */
  get holdback(): FairShareHoldback | undefined {
    return this.#holdback;
  }

  /** The holdback's reading of the active flows now, when it is on and the pool's capacity is known. */
  shares(now: number = this.#now()): ShareReading | undefined {
    return this.#holdback === undefined ? undefined : this.#shares(this.#holdback, this.#endpoints(), now);
  }

  /**
   * Undefined: go now (nothing waits and the pool has room; no promise, no timer). Else a ticket whose `done`
   * settles at dispatch or rejects with the outcome to answer. Throws a FlowControlRejection when the band
   * or global limits are full. Every request let through must be `release`d with its flow when it finishes.
   */
  admit(req: AdmitRequest): Ticket | undefined {
    const enqueued = this.#events.enqueued;
    if (enqueued === undefined) return this.#admit(req);
    const started = performance.now();
    let outcome = 'NotYetFinalized';
    try {
      const t = this.#admit(req);
      if (t === undefined) outcome = 'Dispatched';
      return t;
    } catch (e) {
      if (e instanceof FlowControlRejection) outcome = e.outcome;
      throw e;
    } finally {
      enqueued.call(this.#events, req, outcome, (performance.now() - started) / 1000);
    }
  }

  #admit(req: AdmitRequest): Ticket | undefined {
    const now = this.#now();
    const endpoints = this.#endpoints();
    const hb = this.#holdback;
    hb?.arrived(req, now);
    if (this.#length === 0) {
      const reading = readGate(this.#config.detector, endpoints, now, this.#inFlight, this.#config.usageCeiling);
      if (reading.open && (hb === undefined || this.#shares(hb, endpoints, now)?.mayDispatch(req) !== false)) {
        this.#inFlight++;
        hb?.dispatched(req, false);
        this.#events.left?.(this.pool, req, 'Dispatched', 0);
        return undefined;
      }
    }
    if (this.#closing) throw this.#refused(req, rejectedShuttingDown(this.pool));
    const band = this.#band(req.priority);
    const c = this.#config;
    if (!band.fits(req.bytes)) {
      const usage = limitUsage(band.length, band.limits.maxRequests, band.bytes, band.limits.maxBytes);
      throw this.#refused(req, rejectedSaturated(this.pool, `priority band ${req.priority}: ${usage}`, endpoints.length === 0, `the maxRequests / maxBytes of ${this.#bandField(req.priority)}`));
    }
    if (this.#length + 1 > c.maxRequests || this.#bytes + req.bytes > c.maxBytes) {
      throw this.#refused(req, rejectedSaturated(this.pool, `global: ${limitUsage(this.#length, c.maxRequests, this.#bytes, c.maxBytes)}`, endpoints.length === 0));
    }
    const t = new Ticket(req.fairnessId, req.priority, req.bytes, now, c.defaultRequestTTLMs, this.#seq++);
    t.model = req.model;
    t.target = req.target;
    band.add(t);
    hb?.queued(t);
    if (this.#length === 0) this.#oldest = now;
    this.#length++;
    this.#bytes += t.bytes;
    // With the holdback, the gate is often open while a held-back flood waits: a newcomer under its share
    // goes at the next look, not after a poll.
    this.#schedule(hb !== undefined ? 0 : DISPATCH_POLL_MS);
    return t;
  }

  /** The client went away: the request leaves its queue at once (llm-d's rejected-context-cancelled). */
  cancel(t: Ticket): void {
    if (t.state !== 'queued') return;
    this.#leave(t, rejectedContextCancelled(this.pool));
  }

  /**
   * A request let through finished: its slot frees, and waiting requests get a look at once. `flow` is the
   * request's flow key (its fairness ID and priority); the holdback's per-flow counts need it.
   */
  release(flow?: FlowRef): void {
    this.#inFlight--;
    this.#holdback?.released(flow);
    if (this.#length > 0) this.#schedule(0);
  }

  /** Shutdown began: waiting requests keep dispatching, and new ones that would wait get 503 rejected-shutting-down. */
  beginShutdown(): void {
    this.#closing = true;
  }

  /** The drain's time is up: every waiting request gets 503 rejected-shutting-down. */
  rejectQueued(): void {
    this.#closing = true;
    for (const band of this.#order) for (const flow of [...band.flows()]) for (const t of [...flow.queued()]) this.#leave(t as Ticket, rejectedShuttingDown(this.pool));
    this.#stop();
  }

  /** Bands with requests waiting, highest priority first (for /debug and metrics). */
  bands(): readonly PriorityBand[] {
    return this.#order;
  }

  /** Flow control was turned off for this pool: every waiting request goes on to the pick at once. */
  releaseAll(): void {
    for (const band of this.#order) {
      for (let t = band.take() as Ticket | undefined; t; t = band.take() as Ticket | undefined) {
        this.#length--;
        this.#bytes -= t.bytes;
        this.#inFlight++;
        this.#holdback?.dispatched(t, true);
        t.dispatch();
        this.#events.left?.(this.pool, t, 'Dispatched', this.#now() - t.enqueuedAt);
      }
    }
    this.#stop();
  }

  #band(priority: number): PriorityBand {
    let band = this.#bands.get(priority);
    if (!band) {
      const cfg = this.#bandConfig(priority);
      band = new PriorityBand(priority, { maxRequests: cfg.maxRequests, maxBytes: cfg.maxBytes }, cfg.fairness, cfg.ordering);
      this.#bands.set(priority, band);
      this.#order = [...this.#bands.values()].sort((a, b) => b.priority - a.priority);
    }
    return band;
  }

  #bandConfig(priority: number): BandConfig {
    const c = this.#config;
    return c.bands.get(priority) ?? (priority < 0 ? c.defaultNegativeBand : c.defaultBand);
  }

  /** Where the limits of the band of `priority` are set, for a refusal's advice. */
  #bandField(priority: number): string {
    const c = this.#config;
    if (c.bands.has(priority)) return `flowControl.priorityBands[priority: ${priority}]`;
    return priority < 0 ? 'flowControl.defaultNegativePriorityBand' : 'flowControl.defaultPriorityBand';
  }

  #refused(req: AdmitRequest, why: FlowControlRejection): FlowControlRejection {
    this.#events.left?.(this.pool, req, why.outcome, 0);
    return why;
  }

  #leave(t: Ticket, why: FlowControlRejection): void {
    this.#bands.get(t.priority)?.remove(t);
    this.#holdback?.unqueued(t);
    this.#length--;
    this.#bytes -= t.bytes;
    t.drop(why);
    this.#events.left?.(this.pool, t, why.outcome, this.#now() - t.enqueuedAt);
    if (this.#length === 0) this.#stop();
  }

  #schedule(delayMs: number): void {
    if (this.#immediate) return;
    if (delayMs === 0) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#immediate = setImmediate(() => {
        this.#immediate = undefined;
        this.#cycle();
      });
      return;
    }
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#cycle();
    }, delayMs);
    this.#timer.unref();
  }

  #stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  /**
   * One dispatch cycle: drop requests past their TTL, then, if the pool has room, release the next request
   * (highest band, its fairness policy, its flow's order). One per cycle, so the next reading sees it sent.
   */
  #cycle(): void {
    if (this.#length === 0) return;
    const started = performance.now();
    const now = this.#now();
    const endpoints = this.#endpoints();
    this.#expire(now, endpoints.length === 0);
    const reading = readGate(this.#config.detector, endpoints, now, this.#inFlight, this.#config.usageCeiling);
    let dispatched = false;
    if (reading.open && this.#length > 0) {
      const hb = this.#holdback;
      const shares = hb === undefined ? undefined : this.#shares(hb, endpoints, now);
      const eligible = shares === undefined ? undefined : (f: FlowQueue): boolean => shares.mayDispatch(f);
      for (const band of this.#order) {
        const t = band.take(eligible) as Ticket | undefined;
        if (!t) continue;
        this.#length--;
        this.#bytes -= t.bytes;
        this.#inFlight++;
        hb?.dispatched(t, true);
        t.dispatch();
        this.#events.left?.(this.pool, t, 'Dispatched', now - t.enqueuedAt);
        dispatched = true;
        break;
      }
    }
    this.#events.cycle?.(this.pool, (performance.now() - started) / 1000, reading);
    if (this.#length > 0) this.#schedule(dispatched ? 0 : DISPATCH_POLL_MS);
  }

  /** The pool's capacity in requests in flight: the concurrency detector's `maxConcurrency` x endpoints. */
  #capacity(endpoints: readonly Endpoint[]): number | undefined {
    const d = this.#config.detector;
    return d.kind === 'concurrency' ? d.detector.maxConcurrency * endpoints.length : undefined;
  }

  #shares(hb: FairShareHoldback, endpoints: readonly Endpoint[], now: number): ShareReading | undefined {
    const capacity = this.#capacity(endpoints);
    return capacity === undefined ? undefined : hb.read(now, capacity);
  }

  /** TTLs: while the pool has endpoints, `defaultRequestTTL` (429); while it has none, `noEndpointRequestTTL` (503). */
  #expire(now: number, noEndpoints: boolean): void {
    const c = this.#config;
    const ttl = noEndpoints ? c.noEndpointRequestTTLMs : c.defaultRequestTTLMs;
    if (ttl <= 0) return;
    const cutoff = now - ttl;
    if (this.#oldest > cutoff) return;
    let oldest = Infinity;
    for (const band of this.#order) {
      if (band.length === 0) continue;
      for (const flow of [...band.flows()]) {
        for (const t of [...flow.queued()]) {
          if (t.enqueuedAt > cutoff) {
            if (t.enqueuedAt < oldest) oldest = t.enqueuedAt;
            continue;
          }
          const waited = now - t.enqueuedAt;
          this.#leave(t as Ticket, noEndpoints ? rejectedNoEndpoints(this.pool, waited) : rejectedTtlExpired(this.pool, waited));
        }
      }
    }
    this.#oldest = oldest;
  }
}

/** `3 of 5 requests, 120 of 1000 bytes`, leaving out a limit that is not set (unlimited, not "of Infinity"). */
function limitUsage(requests: number, maxRequests: number, bytes: number, maxBytes: number): string {
  const parts: string[] = [];
  if (Number.isFinite(maxRequests)) parts.push(`${requests} of ${maxRequests} requests`);
  if (Number.isFinite(maxBytes)) parts.push(`${bytes} of ${maxBytes} bytes`);
  return parts.join(', ');
}
