/** Renders a request plan as the numbered, human-readable trace `infergate explain` prints. */
import type { RoutePlan } from '../proxy/plan-request.js';

const STAGE_TITLE = { bbr: 'body-based routing', route: 'route', pool: 'pool', pick: 'pick' } as const;

export function renderPlan(plan: RoutePlan): string[] {
  const lines: string[] = [];
  let n = 0;
  let last = '';
  for (const s of plan.steps) {
    if (s.stage !== last) {
      lines.push(`${++n}. ${STAGE_TITLE[s.stage]}: ${s.detail}`);
      last = s.stage;
    } else lines.push(`   ${s.detail}`);
  }
  if (plan.view) {
    lines.push(`${++n}. endpoints of InferencePool ${plan.view.key}:`);
    for (const m of plan.view.excluded) lines.push(`   - pod ${m.pod.meta.namespace}/${m.pod.meta.name}: excluded: ${m.excluded ?? ''}`);
    for (const c of plan.candidates ?? []) {
      lines.push(`   - ${c.address} (pod ${c.pod}, in-flight ${c.inFlight}): ${c.excluded ? `excluded: ${c.excluded}` : 'eligible'}`);
    }
  }
  if (plan.pick) lines.push(`${++n}. pick: ${plan.pick.endpoint.address} (pod ${plan.pick.endpoint.podKey}): least in-flight among eligible endpoints, ties broken at random`);
  if (plan.error) lines.push(`${++n}. error ${plan.error.status} ${plan.error.code}: ${plan.error.message}`, `   response body: ${JSON.stringify(plan.error.toBody())}`);
  return lines;
}
