/**
 * An `infergate extproc` (the BBR and EPP ext_proc servers) in a child process of a benchmark, so that its CPU time
 * is its own: forked, asked for its ports and CPU time over IPC, stopped. This file is also the child's program.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_EXTPROC_OPTIONS, startExtproc, type ExtprocOptions } from '../../src/extproc/start-extproc.js';
import { createLogger } from '../../src/logger.js';

/** What the child is started with (JSON over argv: its logger is its own, at `warn`). */
export type ExtprocChildOptions = Partial<Omit<ExtprocOptions, 'log' | 'kube'>> & { configPath: string };

export interface ExtprocChild {
  ports: { bbr: number; epp: number };
  /** The child's CPU time so far (user + system), in ms. */
  cpuMs(): Promise<number>;
  /** Closes the servers and waits for the child to exit. */
  stop(): Promise<void>;
}

interface ChildMessage {
  ports?: { bbr: number; epp: number };
  cpu?: NodeJS.CpuUsage;
}

const SELF = fileURLToPath(import.meta.url);

/** Forks the child with `options` over these: 127.0.0.1, ephemeral ports, plaintext, a 100 ms shutdown grace; resolves once it listens. */
export async function forkExtproc(options: ExtprocChildOptions): Promise<ExtprocChild> {
  const child = fork(SELF, [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ports = await new Promise<{ bbr: number; epp: number }>((resolve, reject) => {
    child.once('message', (m: ChildMessage) => (m.ports ? resolve(m.ports) : reject(new Error('no ports'))));
    child.once('exit', (code) => reject(new Error(`extproc child exited with ${code}`)));
  });
  return {
    ports,
    cpuMs: () =>
      new Promise((resolve) => {
        child.once('message', (m: ChildMessage) => resolve(((m.cpu?.user ?? 0) + (m.cpu?.system ?? 0)) / 1000));
        child.send('cpu');
      }),
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.send('stop');
      await exited;
    },
  };
}

/** The child: the servers, reporting their ports, then answering `cpu` and `stop`. */
async function serve(options: ExtprocChildOptions): Promise<void> {
  const xp = await startExtproc({ ...DEFAULT_EXTPROC_OPTIONS, host: '127.0.0.1', bbrPort: 0, eppPort: 0, healthPort: 0, adminPort: 0, secureServing: false, shutdownGraceMs: 100, ...options, log: createLogger('warn') });
  process.send!({ ports: { bbr: xp.ports.bbr, epp: xp.ports.epp } } satisfies ChildMessage);
  process.on('message', (m: string) => {
    if (m === 'cpu') process.send!({ cpu: process.cpuUsage() } satisfies ChildMessage);
    if (m === 'stop') void xp.close().then(() => process.exit(0));
  });
}

if (process.argv[1] === SELF && process.send) await serve(JSON.parse(process.argv[2]!) as ExtprocChildOptions);
