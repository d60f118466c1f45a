/**
 * Flow control's queues as JSON, for `GET /debug/flow-control` on the admin listener and the dashboard's
 * state: per pool its reading and limits, per band its policies, per flow (fairness ID) what waits. Fairness
 * IDs are tenant names or a header's value; no key or hash ever reaches a flow.
 */
import type { FlowControl } from './flow-control.js';

export interface FlowReport {
  fairnessId: string;
  queued: number;
  bytes: number;
  /** How long its oldest request has waited. */
  oldestWaitMs: number;
}

export interface BandReport {
  priority: number;
  queued: number;
  bytes: number;
  maxRequests: number;
  maxBytes: number;
  fairnessPolicy: string;
  orderingPolicy: string;
  flows: FlowReport[];
}

/** A flow's load under fairShareHoldback: what it has in flight against its share. */
export interface FlowShareReport {
  fairnessId: string;
  priority: number;
  inFlight: number;
  queued: number;
  active: boolean;
  /** The most it may have in flight now; null when it is alone at its priority or above (no limit). */
  share: number | null;
}

export interface PoolFlowReport {
  pool: string;
  queued: number;
  bytes: number;
  /** Requests dispatched through flow control that have not finished. */
  inFlight: number;
  detector: { type: string; name: string };
  saturation: { level: number; dispatching: boolean; staleEndpoints: number };
  limits: { maxRequests: number | null; maxBytes: number | null; defaultRequestTTLMs: number; noEndpointRequestTTLMs: number };
  bands: BandReport[];
  /** infergate's own holdback, when configured: capacity in requests and the flows it counts. */
  fairShareHoldback?: { activeWindowMs: number; capacity: number; flows: FlowShareReport[] };
}

const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);

export function flowControlReport(fc: FlowControl | undefined, now = Date.now()): PoolFlowReport[] {
  if (!fc) return [];
  const out: PoolFlowReport[] = [];
  for (const c of fc.controllers()) {
    const cfg = c.config;
    const bands: BandReport[] = [];
    for (const b of c.bands()) {
      const flows: FlowReport[] = [];
      for (const f of b.flows()) {
        let oldest = now;
        for (const r of f.queued()) if (r.enqueuedAt < oldest) oldest = r.enqueuedAt;
        flows.push({ fairnessId: f.fairnessId, queued: f.length, bytes: f.bytes, oldestWaitMs: now - oldest });
      }
      bands.push({ priority: b.priority, queued: b.length, bytes: b.bytes, maxRequests: b.limits.maxRequests, maxBytes: b.limits.maxBytes, fairnessPolicy: b.fairness.name, orderingPolicy: b.ordering.name, flows });
    }
    const hb = c.holdback;
    const shares = c.shares(now);
    const reading = c.reading(now);
    const holdback =
      hb === undefined || shares === undefined
        ? undefined
        : {
            activeWindowMs: hb.config.activeWindowMs,
            capacity: shares.capacity,
            flows: [...hb.flows()].map((l) => {
              const active = hb.isActive(l, now);
              return { fairnessId: l.fairnessId, priority: l.priority, inFlight: l.inFlight, queued: l.queued, active, share: active ? finite(shares.share(l.priority)) : null };
            }),
          };
    out.push({
      pool: c.pool,
      queued: c.length,
      bytes: c.bytes,
      inFlight: c.inFlight,
      detector: { type: cfg.detector.detector.type, name: cfg.detector.detector.name },
      saturation: { level: reading.level, dispatching: reading.open, staleEndpoints: reading.stale },
      limits: { maxRequests: finite(cfg.maxRequests), maxBytes: finite(cfg.maxBytes), defaultRequestTTLMs: cfg.defaultRequestTTLMs, noEndpointRequestTTLMs: cfg.noEndpointRequestTTLMs },
      bands,
      ...(holdback === undefined ? {} : { fairShareHoldback: holdback }),
    });
  }
  return out.sort((a, b) => a.pool.localeCompare(b.pool));
}
