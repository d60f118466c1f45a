import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdminServer } from './admin-server.js';
import { createLogger } from '../logger.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { mountProfiling, profileSeconds } from './profiling.js';

async function withAdmin(enabled: boolean, body: (url: string) => Promise<void>): Promise<void> {
  const metrics = new GatewayMetrics();
  const admin = new AdminServer({ host: '127.0.0.1', port: 0, metrics, log: createLogger('silent') });
  mountProfiling(admin, enabled);
  await admin.listen();
  try {
    await body(admin.url);
  } finally {
    await admin.close();
    metrics.close();
  }
}

type ErrorBody = { error: { code: string; message: string; param: string | null } };

test('--enable-pprof off: the profile paths answer 404 debug_disabled, saying how to turn them on', () =>
  withAdmin(false, async (url) => {
    for (const path of ['/debug/pprof/profile', '/debug/pprof/heap']) {
      const res = await fetch(`${url}${path}?seconds=1`);
      assert.equal(res.status, 404);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.error.code, 'debug_disabled');
      assert.match(body.error.message, /--enable-pprof/);
    }
  }));

test('--enable-pprof on: a CPU profile and a heap profile of the running process, one at a time', () =>
  withAdmin(true, async (url) => {
    // Some work to be seen while the CPU profile runs.
    const busy = setInterval(() => {
      let x = 0;
      for (let i = 0; i < 200_000; i++) x += Math.sqrt(i);
      if (x < 0) clearInterval(busy);
    }, 5);
    try {
      const cpu = fetch(`${url}/debug/pprof/profile?seconds=0.5`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = await fetch(`${url}/debug/pprof/heap?seconds=0.1`);
      assert.equal(second.status, 409, 'a second profile while one runs');
      assert.equal(((await second.json()) as ErrorBody).error.code, 'profile_in_progress');
      const res = await cpu;
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="infergate-.+\.cpuprofile"$/);
      const profile = (await res.json()) as { nodes: { callFrame: { functionName: string } }[]; samples: number[]; startTime: number; endTime: number };
      assert.ok(profile.nodes.length > 1 && profile.samples.length > 10, `a V8 CPU profile: ${profile.nodes.length} nodes, ${profile.samples.length} samples`);
      const us = profile.endTime - profile.startTime;
      assert.ok(us >= 400_000 && us < 5_000_000, `it covers the half second asked for: ${us} µs`);
    } finally {
      clearInterval(busy);
    }
    const heap = await fetch(`${url}/debug/pprof/heap?seconds=0.2`);
    assert.equal(heap.status, 200, 'the slot is free again');
    assert.match(heap.headers.get('content-disposition') ?? '', /\.heapprofile"$/);
    const h = (await heap.json()) as { head: { callFrame: { functionName: string }; children: unknown[] }; samples: unknown[] };
    assert.equal(h.head.callFrame.functionName, '(root)', 'a V8 sampling heap profile');
    assert.ok(Array.isArray(h.samples));
  }));

test('?seconds: above 0 and at most 300, 30 when absent; anything else is a 400 naming the parameter', async () => {
  assert.equal(profileSeconds(null), 30);
  assert.equal(profileSeconds('2.5'), 2.5);
  for (const bad of ['0', '-1', '301', 'abc', '']) assert.throws(() => profileSeconds(bad), (e: Error & { code?: string; param?: string }) => e.code === 'bad_request' && e.param === 'seconds', bad);
  await withAdmin(true, async (url) => {
    const res = await fetch(`${url}/debug/pprof/profile?seconds=9999`);
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as ErrorBody).error.param, 'seconds');
  });
});
