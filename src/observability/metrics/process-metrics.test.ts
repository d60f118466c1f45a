import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Registry } from 'prom-client';
import { register } from './family.js';
import { maxOpenFiles, ProcessMetrics } from './process-metrics.js';

/** The value of the unlabelled sample `name` (or of the one with `labels`), undefined when absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const m = new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

function registryOf(p: ProcessMetrics): Registry {
  const r = new Registry();
  for (const f of p.families()) register(r, f);
  return r;
}

/** Holds the event loop for `ms`, so the delay monitor has something to see. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

describe('ProcessMetrics', () => {
  it('reads CPU, memory, descriptors, start time and the Node version under the standard names', async () => {
    const p = new ProcessMetrics();
    try {
      const text = await registryOf(p).metrics();
      const cpu = sample(text, 'process_cpu_seconds_total')!;
      assert.ok(cpu > 0, 'this process has used CPU');
      assert.ok(Math.abs(cpu - (sample(text, 'process_cpu_user_seconds_total')! + sample(text, 'process_cpu_system_seconds_total')!)) < 0.05, 'user + system = total');
      assert.ok(sample(text, 'process_resident_memory_bytes')! > 10 * 2 ** 20);
      assert.ok(sample(text, 'nodejs_heap_size_used_bytes')! > 0 && sample(text, 'nodejs_heap_size_used_bytes')! <= sample(text, 'nodejs_heap_size_total_bytes')!);
      const start = sample(text, 'process_start_time_seconds')!;
      assert.ok(Math.abs(start - (Date.now() / 1000 - process.uptime())) < 2, 'start time is when this process started');
      const open = readdirSync('/proc/self/fd').length;
      assert.ok(Math.abs(sample(text, 'process_open_fds')! - open) <= 3, `open descriptors near ${open}`);
      assert.equal(sample(text, 'process_max_fds'), maxOpenFiles(readFileSync('/proc/self/limits', 'utf8')));
      const [major, minor, patch] = process.versions.node.split('.');
      assert.equal(sample(text, 'nodejs_version_info', `{version="${process.version}",major="${major}",minor="${minor}",patch="${patch}"}`), 1);
      const busy = sample(text, 'infergate_event_loop_busy_seconds_total')!;
      assert.ok(busy > 0 && busy <= process.uptime(), `the loop's busy time, at most the process's age: ${busy}`);
      block(50);
      const after = sample(await registryOf(p).metrics(), 'infergate_event_loop_busy_seconds_total')!;
      assert.ok(after - busy >= 0.045, `a 50 ms block counts as busy: ${after - busy} s`);
      assert.match(text, /# TYPE process_cpu_seconds_total counter/);
      assert.match(text, /# TYPE nodejs_gc_duration_seconds histogram/);
      assert.doesNotMatch(text, /nodejs_active_/, 'none of the per-handle gauges');
    } finally {
      p.close();
    }
  });

  it('samples the event-loop delay and garbage collections from the first scrape on, a window per scrape, until close', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const p = new ProcessMetrics();
    const r = registryOf(p);
    try {
      const first = await r.metrics();
      assert.equal(sample(first, 'nodejs_eventloop_lag_max_seconds'), undefined, 'nothing sampled before the first scrape');
      gc();
      // One block far longer than a loaded machine's own stalls, so the next window can tell it is gone.
      for (let i = 0; i < 2; i++) {
        block(150);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
      const second = await r.metrics();
      const max = sample(second, 'nodejs_eventloop_lag_max_seconds')!;
      assert.ok(max >= 0.14, `a 150 ms block shows as a delay: max ${max} s`);
      assert.ok(sample(second, 'nodejs_eventloop_lag_p50_seconds')! <= max && sample(second, 'nodejs_eventloop_lag_min_seconds')! <= sample(second, 'nodejs_eventloop_lag_p50_seconds')!);
      assert.ok(sample(second, 'nodejs_gc_duration_seconds_count', '{kind="major"}')! >= 1, 'the forced collection was counted');
      await new Promise((resolve) => setTimeout(resolve, 60));
      const third = await r.metrics();
      assert.ok(sample(third, 'nodejs_eventloop_lag_max_seconds')! < 0.1, 'the window restarted at the last scrape: no 150 ms block since');
      p.close();
      block(40);
      await new Promise((resolve) => setTimeout(resolve, 30));
      const afterClose = await r.metrics();
      assert.ok(sample(afterClose, 'process_cpu_seconds_total')! > 0, 'CPU is still read after close');
      assert.ok((sample(afterClose, 'nodejs_eventloop_lag_max_seconds') ?? 0) < 0.03, 'nothing sampled after close');
    } finally {
      p.close();
    }
  });

  it('reads the soft limit of open files from /proc/self/limits', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax processes             95439                95439                processes\nMax open files            1048576              1048576              files\n';
    assert.equal(maxOpenFiles(text), 1048576);
    assert.equal(maxOpenFiles('Max open files            unlimited            unlimited            files\n'), undefined);
  });
});
