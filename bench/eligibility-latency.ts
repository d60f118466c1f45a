/**
 * What the eligibility rules cost per pick (src/epp/eligibility.ts: tried, served model, backoff, ejection,
 * unanswered requests), on pools of 10, 100 and 1,000 endpoints that all serve the model, before any plugin
 * runs. pick-latency.ts times the scheduling profile that follows; a pick is the sum of the two. A program,
 * not a test: prints microseconds per call.
 *
 *   npx tsc -p . && node dist/bench/eligibility-latency.js [--calls 2000000] [--sizes 10,100,1000]
 */
import { cpus, loadavg } from 'node:os';
import { benchArgs } from './lib/bench-args.js';
import { inferencePool, pod } from '../src/api/test-fixtures.js';
import { snapshot } from '../src/config/test-fixtures.js';
import { Datastore } from '../src/epp/datastore/datastore.js';
import { eligibleEndpoints } from '../src/epp/eligibility.js';

const { values } = benchArgs({ options: { calls: { type: 'string', default: '2000000' }, sizes: { type: 'string', default: '10,100,1000' } } });
const CALLS = Number(values.calls);
const SIZES = values.sizes.split(',').map(Number).filter((n) => n > 0);

console.log(`eligibility per pick, every endpoint eligible, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs`);
console.log('endpoints      calls   us/call');
for (const n of SIZES) {
  const pods = Array.from({ length: n }, (_, i) => pod(`vllm-${i}`).labels({ app: 'vllm' }).ip(`10.0.${i >> 8}.${i & 255}`).ready());
  const ds = new Datastore();
  ds.apply(snapshot(inferencePool('vllm').selects({ app: 'vllm' }), ...pods));
  const view = ds.pool('default/vllm')!;
  const now = Date.now();
  for (const ep of view.endpoints) {
    ep.setModels([{ id: 'm', parent: null }], now);
    ep.metrics = { waitingQueueSize: 1, runningQueueSize: 3, kvCacheUsagePercent: 0.5, runningLoras: [], waitingLoras: [], maxLoras: 0, updatedAt: now };
  }
  const calls = Math.max(1, Math.round(CALLS / n));
  const req = { model: 'm', now };
  let kept = 0;
  for (let i = 0; i < calls; i++) kept += eligibleEndpoints(view, req).length;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) kept += eligibleEndpoints(view, req).length;
  const us = Number(process.hrtime.bigint() - t0) / 1000 / calls;
  if (kept !== 2 * calls * n) throw new Error('an endpoint was not eligible');
  console.log(`${String(n).padStart(9)} ${String(calls).padStart(10)} ${us.toFixed(2).padStart(9)}`);
}
