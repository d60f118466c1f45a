/** Renders a request plan as the numbered, human-readable trace `infergate explain` prints. */
import type { CycleTrace } from '../epp/framework/run-cycle.js';
import type { RoutePlan } from '../plan/plan-request.js';

const STAGE_TITLE = { bbr: 'body-based routing', route: 'route', pool: 'pool', pick: 'admission' } as const;

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
  for (const r of plan.schedule?.results.values() ?? []) if (r.trace) n = renderCycle(r.trace, lines, n);
  const picked = plan.schedule?.endpoint;
  if (picked) lines.push(`${++n}. pick: ${picked.address} (pod ${picked.podKey})${plan.schedule?.ranked && plan.schedule.ranked.length > 1 ? `, fallbacks ${plan.schedule.ranked.slice(1).map((e) => e.address).join(', ')}` : ''}`);
  // P/D: the headers the decode pod's routing sidecar reads (the prefill pod, the encode pods).
  for (const [name, value] of Object.entries(plan.schedule?.requestHeaders ?? {})) if (value !== undefined) lines.push(`   ${name}: ${value}`);
  if (plan.error) lines.push(`${++n}. error ${plan.error.status} ${plan.error.code}: ${plan.error.message}`, `   response body: ${JSON.stringify(plan.error.toBody())}`);
  return lines;
}

/** One profile's filters, then a table: a column per scorer (raw score, weight in the header) and the total. */
function renderCycle(t: CycleTrace, lines: string[], n: number): number {
  lines.push(`${++n}. scheduling profile "${t.profile}":`);
  for (const f of t.filters) lines.push(`   filter ${f.name} (${f.type}): ${f.removed.length === 0 ? 'kept all' : `removed ${f.removed.join(', ')}`}, ${f.remaining} left`);
  if (t.scored.length === 0) return n;
  const headers = ['endpoint', ...t.scorers.map((s) => `${s.name} x${s.weight}`), 'total'];
  const rows = t.scored.map((addr, i) => [addr, ...t.scorers.map((s) => (s.scores[i] ?? 0).toFixed(3)), (t.totals[i] ?? 0).toFixed(3) + (addr === t.picked ? '  <- picked' : '')]);
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const fmt = (cells: string[]): string => '   ' + cells.map((x, c) => x.padEnd(widths[c]!)).join('  ').trimEnd();
  lines.push(fmt(headers));
  for (const r of rows) lines.push(fmt(r));
  // What a scorer's numbers rest on when not what its type says (a precise prefix score on the approximate view).
  for (const s of t.scorers) {
    if (s.basis !== undefined) lines.push(`   ${s.name}: ${s.basis}`);
    for (const [addr, note] of Object.entries(s.notes ?? {})) lines.push(`   ${s.name} on ${addr}: ${note}`);
  }
  // A tie on the top total is broken at random (max-score-picker), so serve may send the same request elsewhere.
  const at = t.picked === undefined ? -1 : t.scored.indexOf(t.picked);
  const tied = at < 0 ? [] : t.scored.filter((addr, i) => i !== at && Math.abs((t.totals[i] ?? 0) - (t.totals[at] ?? 0)) < 1e-9);
  if (tied.length > 0) lines.push(`   ${t.picked} is tied with ${tied.join(', ')} on ${(t.totals[at] ?? 0).toFixed(3)}: the pick among them is random, so the same request sent to the gateway may go to another`);
  return n;
}
