import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessView } from './process-view.js';

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

test("ProcessView: the request thread's busy share and CPU between reads a second apart, and memory", async () => {
  const v = new ProcessView();
  const first = v.read();
  assert.ok(first.overSeconds > 0 && first.threadBusy >= 0 && first.threadBusy <= 1, 'before a second has passed: since the process started');
  assert.ok(first.rssBytes > 10 * 2 ** 20 && first.heapUsedBytes > 0);
  // About 40% of the next 1.2 s spent running.
  const cpu0 = process.cpuUsage();
  block(500);
  await new Promise((resolve) => setTimeout(resolve, 700));
  const busy = v.read();
  const cpu = process.cpuUsage(cpu0);
  assert.ok(busy.overSeconds >= 1 && busy.overSeconds < 3, `a fresh interval: ${busy.overSeconds} s`);
  assert.ok(busy.threadBusy > 0.3 && busy.threadBusy < 0.7, `500 ms busy in ${busy.overSeconds.toFixed(2)} s: ${busy.threadBusy}`);
  // The CPU the loop got depends on what else the machine runs; the view must report what the process used.
  const used = (cpu.user + cpu.system) / 1e6 / busy.overSeconds;
  assert.ok(busy.cpuCores > 0 && Math.abs(busy.cpuCores - used) < 0.1, `the busy loop used CPU: ${busy.cpuCores} cores reported, ${used.toFixed(3)} measured around it`);
  assert.deepEqual({ ...v.read(), rssBytes: 0, heapUsedBytes: 0, uptimeSeconds: 0 }, { ...busy, rssBytes: 0, heapUsedBytes: 0, uptimeSeconds: 0 }, 'a read within the second reuses the measurement');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const idle = v.read();
  assert.ok(idle.threadBusy < 0.2, `idle for a second: ${idle.threadBusy}`);
});
