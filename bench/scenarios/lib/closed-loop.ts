/** A minimal closed-loop HTTP load for overhead measurements: N workers, fixed request, bounded by time and count. */
import { Pool } from 'undici';

export interface LoadResult {
  target: string;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
}

export interface LoadOptions {
  origin: string;
  target: string;
  seconds: number;
  concurrency: number;
  path: string;
  body: string;
  headers?: Record<string, string>;
}

export async function closedLoop(o: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(o.origin, { connections: o.concurrency });
  const headers = { 'content-type': 'application/json', ...o.headers };
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + o.seconds * 1000;
  const worker = async (): Promise<void> => {
    // Bounded by time and by count, whichever comes first.
    for (let n = 0; n < 1_000_000 && performance.now() < end; n++) {
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: o.path, method: 'POST', headers, body: o.body });
        await res.body.text();
        if (res.statusCode !== 200) errors++;
        else latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { target: o.target, requests: latencies.length, errors, rps: latencies.length / elapsed, p50: q(0.5), p90: q(0.9), p99: q(0.99) };
}
