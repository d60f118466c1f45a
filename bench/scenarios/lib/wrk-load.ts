/**
 * Closed-loop load from wrk (C, one thread): a load generator that costs far less per request than any proxy
 * measured, so a Node proxy's figures are not capped by a Node client sharing its cores. Installs Debian's `wrk`
 * when missing, as the scenario installs nginx.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadResult } from './closed-loop.js';

function ensureWrk(): string {
  for (const p of ['/usr/bin/wrk', '/usr/local/bin/wrk']) if (existsSync(p)) return p;
  process.stderr.write('installing wrk from Debian packages (apt-get)...\n');
  execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk'], { stdio: 'inherit' });
  return '/usr/bin/wrk';
}

export interface WrkOptions {
  origin: string;
  target: string;
  seconds: number;
  connections: number;
  path: string;
  body: string;
  headers?: Record<string, string>;
}

/** wrk's summary as one JSON line; latencies are in microseconds. */
const REPORT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"status_errors":%d,"p50":%d,"p90":%d,"p99":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
`;

export async function wrkLoad(o: WrkOptions): Promise<LoadResult> {
  const bin = ensureWrk();
  const dir = mkdtempSync(join(tmpdir(), 'infergate-wrk-'));
  const script = join(dir, 'post.lua');
  const headers = { 'content-type': 'application/json', ...o.headers };
  const lines = [`wrk.method = "POST"`, `wrk.body = [==[${o.body}]==]`, ...Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`), REPORT];
  writeFileSync(script, lines.join('\n'));
  const args = ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--timeout', '10s', '-s', script, `${o.origin}${o.path}`];
  const out = await new Promise<string>((resolve, reject) => {
    execFile(bin, args, { timeout: (o.seconds + 30) * 1000 }, (err, stdout, stderr) => (err ? reject(new Error(`wrk failed: ${err.message} ${stderr}`)) : resolve(stdout)));
  });
  const line = out.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (!line) throw new Error(`wrk printed no summary:\n${out}`);
  const s = JSON.parse(line.slice('WRKJSON '.length)) as { requests: number; duration_us: number; socket_errors: number; status_errors: number; p50: number; p90: number; p99: number };
  const errors = s.socket_errors + s.status_errors;
  const ok = s.requests - s.status_errors;
  return { target: o.target, requests: ok, errors, rps: ok / (s.duration_us / 1e6), p50: s.p50 / 1000, p90: s.p90 / 1000, p99: s.p99 / 1000 };
}
