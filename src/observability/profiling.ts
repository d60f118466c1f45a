/**
 * On-demand profiles of the gateway process on the admin listener (`--enable-pprof`, after the `enablePprof`
 * setting of GIE's EPP chart, which serves Go's /debug/pprof): a V8 CPU profile, or a sampling heap profile, taken
 * over N seconds and returned in the formats Chrome DevTools and speedscope open (`.cpuprofile`, `.heapprofile`). Off by default: the admin
 * port has no authentication, and a profile costs CPU while it runs. One profile at a time.
 */
import { Session } from 'node:inspector/promises';
import { GatewayError } from '../errors.js';
import type { AdminServer } from './admin-server.js';

export const PPROF_PATHS = { cpu: '/debug/pprof/profile', heap: '/debug/pprof/heap' } as const;
/** Go's pprof default for a CPU profile. */
const DEFAULT_SECONDS = 30;
/** A profile past this is refused: it holds the one profiling slot, and its file grows with its length. */
export const MAX_PROFILE_SECONDS = 300;
/** Bytes allocated between two heap samples: V8's default (32 KiB), cheap enough to leave running. */
const HEAP_SAMPLING_BYTES = 32 * 1024;

export type ProfileKind = keyof typeof PPROF_PATHS;

export class Profiler {
  #running = false;

  /** Profiles the process for `seconds`; throws profile_in_progress while another runs. */
  async take(kind: ProfileKind, seconds: number): Promise<object> {
    if (this.#running) throw new GatewayError('profile_in_progress', 'another profile is being taken; profiles run one at a time: retry when it ends');
    this.#running = true;
    const session = new Session();
    session.connect();
    try {
      if (kind === 'cpu') {
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
        await sleep(seconds);
        return (await session.post('Profiler.stop')).profile;
      }
      await session.post('HeapProfiler.enable');
      await session.post('HeapProfiler.startSampling', { samplingInterval: HEAP_SAMPLING_BYTES });
      await sleep(seconds);
      return (await session.post('HeapProfiler.stopSampling')).profile;
    } finally {
      session.disconnect();
      this.#running = false;
    }
  }
}

const sleep = (seconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** `?seconds=N`: above 0 and at most MAX_PROFILE_SECONDS (decimals allowed), DEFAULT_SECONDS when absent. */
export function profileSeconds(raw: string | null): number {
  if (raw === null) return DEFAULT_SECONDS;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0 || n > MAX_PROFILE_SECONDS) {
    throw new GatewayError('bad_request', `seconds must be a number above 0 and at most ${MAX_PROFILE_SECONDS}, got "${raw}"`, 'seconds');
  }
  return n;
}

/**
 * Adds `GET /debug/pprof/profile` and `/debug/pprof/heap` to the admin listener: the profiles when `enabled`,
 * else 404 debug_disabled saying how to turn them on.
 */
export function mountProfiling(admin: Pick<AdminServer, 'route'>, enabled: boolean): void {
  const profiler = enabled ? new Profiler() : undefined;
  for (const kind of Object.keys(PPROF_PATHS) as ProfileKind[]) {
    // A refusal thrown here (off, a bad `seconds`, one already running) is answered by the admin server.
    admin.route(PPROF_PATHS[kind], async (_req, res, url) => {
      if (!profiler) throw new GatewayError('debug_disabled', `GET ${PPROF_PATHS[kind]} is off; start the gateway with --enable-pprof to take CPU and heap profiles on the admin port (anyone who reaches the port can then take one)`);
      const seconds = profileSeconds(url.searchParams.get('seconds'));
      const profile = await profiler.take(kind, seconds);
      const body = Buffer.from(JSON.stringify(profile));
      const file = `infergate-${new Date().toISOString().replace(/[:.]/g, '-')}.${kind === 'cpu' ? 'cpuprofile' : 'heapprofile'}`;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, 'content-disposition': `attachment; filename="${file}"`, 'cache-control': 'no-store' });
      res.end(body);
    });
  }
}
