/**
 * What HTTPS on the traffic port costs (`serve --cert-file --key-file`): two gateways of this build in front of
 * the same fixed-answer nginx upstream, one plain HTTP and one TLS (a self-signed certificate made for the run),
 * loaded alternately round by round with wrk over keep-alive connections (handshakes amortized, as clients that
 * reuse connections see it), then at one connection for latency. Reports req/s, the gateway's CPU per request
 * and p50 at one connection.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/tls-overhead.js [--rounds 5] [--seconds 4] [--connections 50]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs, positiveFlag } from './lib/bench-args.js';
import { onePodFleetYaml } from '../src/config/manifests.js';
import { selfSignedCertificate } from '../src/extproc/self-signed-certificate.js';
import { startFixedUpstream } from './scenarios/lib/fixed-upstream.js';
import { CLI, cpuMs, start, stopAll, waitForUrl } from './scenarios/lib/processes.js';
import type { LoadResult } from './scenarios/lib/closed-loop.js';
import { wrkLoad } from './scenarios/lib/wrk-load.js';

const { values } = benchArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '50' },
  },
});
const ROUNDS = positiveFlag(values, 'rounds');
const SECONDS = positiveFlag(values, 'seconds');
const CONNECTIONS = positiveFlag(values, 'connections');
// Loopback only, on this benchmark's own octets.
const UPSTREAM = '127.0.78.2:18640';
const PLAIN = '127.0.78.3';
const TLS = '127.0.78.4';
const PORT = 18641;
const MODEL = 'bench/model';

interface Target {
  name: string;
  origin: string;
  pid: number | undefined;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-tls-bench-'));
  const [host, port] = UPSTREAM.split(':') as [string, string];
  await writeFile(join(dir, 'fleet.yaml'), onePodFleetYaml('bench', host, Number(port), MODEL));
  // Outside the configuration's folder, which the gateway reads.
  const certDir = await mkdtemp(join(tmpdir(), 'infergate-tls-bench-cert-'));
  const pair = selfSignedCertificate({ altNames: [TLS] });
  await writeFile(join(certDir, 'tls.crt'), pair.cert);
  await writeFile(join(certDir, 'tls.key'), pair.key);
  startFixedUpstream(UPSTREAM, MODEL, false);
  try {
    await waitForUrl(`http://${UPSTREAM}/health`);
    const serve = (h: string, extra: string[]): number | undefined =>
      start(process.execPath, ['--max-semi-space-size=32', CLI, 'serve', '-f', dir, '--host', h, '--port', String(PORT), '--admin-port', '0', '--log-level', 'warn', '--shutdown-delay', '0s', ...extra]).pid;
    const targets: Target[] = [
      { name: 'HTTP', origin: `http://${PLAIN}:${PORT}`, pid: serve(PLAIN, []) },
      { name: 'HTTPS', origin: `https://${TLS}:${PORT}`, pid: serve(TLS, ['--cert-file', join(certDir, 'tls.crt'), '--key-file', join(certDir, 'tls.key')]) },
    ];
    await waitForUrl(`${targets[0]!.origin}/healthz`);
    // The TLS gateway is started with the other; wrk's warm-up below fails loudly if it is not up.
    const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hello to the gateway benchmark.' }], max_tokens: 2 });
    const run = (t: Target, seconds: number, connections: number): Promise<LoadResult> => wrkLoad({ origin: t.origin, target: t.name, seconds, connections, path: '/v1/chat/completions', body });
    for (const t of targets) await run(t, 2, CONNECTIONS);
    const loaded = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
    const cpu = new Map<string, { ms: number; requests: number }>(targets.map((t) => [t.name, { ms: 0, requests: 0 }]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const t of r % 2 === 0 ? targets : [...targets].reverse()) {
        process.stderr.write(`round ${r + 1}/${ROUNDS}: ${t.name}...\n`);
        const before = cpuMs(t.pid);
        const x = await run(t, SECONDS, CONNECTIONS);
        const after = cpuMs(t.pid);
        loaded.get(t.name)!.push(x);
        const c = cpu.get(t.name)!;
        if (before !== null && after !== null) {
          c.ms += after - before;
          c.requests += x.rps * SECONDS;
        }
      }
    }
    const single = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
    for (let r = 0; r < 3; r++) for (const t of targets) single.get(t.name)!.push(await run(t, 2, 1));
    const mean = (xs: readonly LoadResult[], k: 'rps' | 'p50'): number => xs.reduce((s, x) => s + x[k], 0) / xs.length;
    const httpRps = mean(loaded.get('HTTP')!, 'rps');
    const usOf = (name: string): number => (cpu.get(name)!.ms * 1000) / cpu.get(name)!.requests;
    console.log(`\n${ROUNDS} rounds x ${SECONDS} s at ${CONNECTIONS} keep-alive connections, alternated, then 3 x 2 s at 1 connection (wrk, 1 thread); non-streamed chat completions\n`);
    console.log('| traffic port | req/s | req/s per round | x HTTP | gateway CPU µs/req | p50 ms, 1 conn | errors |');
    console.log('|---|---:|---|---:|---:|---:|---:|');
    for (const t of targets) {
      const xs = loaded.get(t.name)!;
      const errors = [...xs, ...single.get(t.name)!].reduce((s, x) => s + x.errors, 0);
      console.log(`| ${t.name} | ${mean(xs, 'rps').toFixed(0)} | ${xs.map((x) => x.rps.toFixed(0)).join(', ')} | ${(mean(xs, 'rps') / httpRps).toFixed(2)} | ${usOf(t.name).toFixed(0)} | ${mean(single.get(t.name)!, 'p50').toFixed(3)} | ${errors} |`);
    }
  } finally {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
    await rm(certDir, { recursive: true, force: true });
  }
}

await main();
