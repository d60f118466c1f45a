/** The standalone gateway's part of P/D with `--kv-connector`: the prefill leg before a decode attempt (src/disagg). */
import { PREFILL_ENDPOINT_HEADER } from '../bbr/routing-headers.js';
import type { RoutePlan } from '../plan/plan-request.js';
import type { Cancellation } from '../upstream/cancellation.js';
import type { ForwardContext, ForwardRequest } from './forward.js';

/**
 * The prefill leg before a decode attempt (`--kv-connector`): the decode pod's body with the prefill's
 * `kv_transfer_params`, or the client's body when the prefill failed (the decode pod then prefills itself). Either
 * way the prefill pod leaves the upstream headers: a sidecar in front of the decode pod must not prefill again.
 */
export async function prefilled(ctx: ForwardContext, plan: RoutePlan, req: ForwardRequest, at: string, cancel: Cancellation, body: Buffer | null): Promise<Buffer | null> {
  delete req.headers[PREFILL_ENDPOINT_HEADER];
  const ep = ctx.state.datastore.endpoint(at);
  const out = ep === undefined ? { ok: false as const, why: `the prefill pod ${at} left the pool` } : await ctx.prefill!.run(ep, { url: req.url, headers: req.headers, json: plan.json!, pool: plan.view!.key, cancel });
  if (out.ok) return out.body;
  if (cancel.cause !== 'client') ctx.log.warn('P/D prefill leg failed; the decode pod prefills the request itself', { request_id: req.requestId, prefill: at, error: out.why });
  return body;
}
