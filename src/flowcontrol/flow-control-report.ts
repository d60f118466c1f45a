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
    out.push({
      pool: c.pool,
      queued: c.length,
      bytes: c.bytes,
      inFlight: c.inFlight,
      detector: { type: cfg.detector.detector.type, name: cfg.detector.detector.name },
      saturation: { level: c.lastReading.level, dispatching: c.lastReading.open, staleEndpoints: c.lastReading.stale },
      limits: { maxRequests: finite(cfg.maxRequests), maxBytes: finite(cfg.maxBytes), defaultRequestTTLMs: cfg.defaultRequestTTLMs, noEndpointRequestTTLMs: cfg.noEndpointRequestTTLMs },
      bands,
    });
  }
  return out.sort((a, b) => a.pool.localeCompare(b.pool));
}
