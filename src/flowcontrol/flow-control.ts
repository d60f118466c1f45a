/**
 * Flow control across a gateway's pools: one FlowController per pool whose EndpointPickerConfig turns the
 * `flowControl` feature gate on, kept across reloads so waiting requests are not lost. With the gate off
 * everywhere, `enabled` is false and the data plane pays one property read per request.
 */
import type { Datastore } from '../epp/datastore/datastore.js';
import type { Endpoint } from '../epp/datastore/endpoint.js';
import type { Logger } from '../logger.js';
import type { PoolSchedulers } from '../epp/pool-schedulers.js';
import type { FlowControlConfig } from './flow-control-config.js';
import { FlowController, type FlowControlEvents } from './flow-controller.js';

const NO_ENDPOINTS: readonly Endpoint[] = [];

/** A limit for the log: `unset` where none is set (Infinity). */
const finiteOr = (n: number): number | string => (Number.isFinite(n) ? n : 'unset');

export class FlowControl {
  /** True when at least one pool has flow control on. */
  enabled = false;
  readonly #controllers = new Map<string, FlowController>();
  #events: FlowControlEvents = {};
  #closing = false;

  /** Where controllers report (metrics); set before the first reconcile. */
  set events(e: FlowControlEvents) {
    this.#events = e;
  }

  /** The controller of a pool with flow control on. */
  controller(pool: string): FlowController | undefined {
    return this.#controllers.get(pool);
  }

  controllers(): IterableIterator<FlowController> {
    return this.#controllers.values();
  }

  /**
   * After a configuration change was put in force: a controller for each pool whose config has flow control
   * on (new limits apply at once), and none for the others; requests waiting in a controller that goes are
   * let through to the pick, as they would be without flow control.
   */
  reconcile(schedulers: PoolSchedulers, datastore: Datastore, log?: Logger): void {
    const seen = new Set<string>();
    for (const view of datastore.pools()) {
      const cfg: FlowControlConfig | undefined = schedulers.forPool(view.key)?.loaded.flowControl;
      if (!cfg) continue;
      seen.add(view.key);
      const c = this.#controllers.get(view.key);
      if (c) c.reconfigure(cfg);
      else {
        const key = view.key;
        const fc = new FlowController(key, cfg, () => datastore.pool(key)?.endpoints ?? NO_ENDPOINTS, this.#events);
        if (this.#closing) fc.beginShutdown();
        this.#controllers.set(key, fc);
        // Said once as it changes, so an operator sees from the log which pools queue (and since when).
        log?.info('flow control on: requests wait in its queues while the pool is saturated', { pool: key, max_requests: finiteOr(cfg.maxRequests), max_bytes: finiteOr(cfg.maxBytes), ttl_ms: cfg.defaultRequestTTLMs });
      }
    }
    for (const [key, c] of this.#controllers) {
      if (seen.has(key)) continue;
      log?.info('flow control off: requests go straight to the pick', { pool: key, released_waiting: c.length });
      c.releaseAll();
      this.#controllers.delete(key);
    }
    this.enabled = this.#controllers.size > 0;
  }

  /** Shutdown began: waiting requests keep their chance to dispatch; new ones that would wait are refused. */
  beginShutdown(): void {
    this.#closing = true;
    for (const c of this.#controllers.values()) c.beginShutdown();
  }

  /** The drain is over: every waiting request gets 503 rejected-shutting-down. */
  rejectQueued(): void {
    this.#closing = true;
    for (const c of this.#controllers.values()) c.rejectQueued();
  }
}
