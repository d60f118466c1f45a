/**
 * One RequestObserver over several (metrics, dashboard, access log, traces), so the data plane calls one.
 * Only the hooks some member has are defined: a hook nobody needs costs the data plane nothing.
 */
import type { RequestObserver, RequestRecord, UpstreamAttempt } from './request-record.js';

/** undefined for none, the observer itself for one, else a composite calling each in order. */
export function composeObservers(observers: readonly (RequestObserver | undefined)[]): RequestObserver | undefined {
  const list = observers.filter((o): o is RequestObserver => o !== undefined);
  if (list.length <= 1) return list[0];
  const starting = list.filter((o) => o.attemptStarting !== undefined);
  const scheduled = list.filter((o) => o.scheduled !== undefined);
  const gaps = list.filter((o) => o.interTokenGap !== undefined);
  const tracing = list.filter((o) => o.tracesScheduling !== undefined);
  const composite: RequestObserver = {
    ...(list.some((o) => o.stageTimes === true) ? { stageTimes: true } : {}),
    ended: (r) => {
      for (const o of list) o.ended(r);
    },
  };
  if (tracing.length > 0) {
    // Every member is asked (no short cut): asking may start its work for the request (a trace's span).
    composite.tracesScheduling = (r) => {
      let any = false;
      for (const o of tracing) if (o.tracesScheduling!(r)) any = true;
      return any;
    };
  }
  if (starting.length > 0) {
    composite.attemptStarting = (r: RequestRecord, a: UpstreamAttempt) => {
      let headers: Record<string, string> | undefined;
      for (const o of starting) {
        const h = o.attemptStarting!(r, a);
        if (h) headers = headers ? Object.assign(headers, h) : { ...h };
      }
      return headers;
    };
  }
  if (scheduled.length > 0) {
    composite.scheduled = (r) => {
      for (const o of scheduled) o.scheduled!(r);
    };
  }
  if (gaps.length > 0) {
    composite.interTokenGap = (r, s) => {
      for (const o of gaps) o.interTokenGap!(r, s);
    };
  }
  return composite;
}
