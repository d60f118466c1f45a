/** A real redis-server (Debian's) for tests: on a loopback address and a free port, no persistence, stopped by PID. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

export interface TestRedis {
  url: string;
  host: string;
  port: number;
  /** Stops the server (SIGKILL-free: SIGTERM, then waits for the exit). */
  stop(): Promise<void>;
  /** Starts it again on the same address and port, empty. */
  restart(): Promise<void>;
}

/** Whether `redis-server` can be run here (the tests that need it skip otherwise, saying why). */
export async function haveRedisServer(): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    p.on('error', () => resolve(false));
    p.on('exit', (code) => resolve(code === 0));
  });
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitListening(host: string, port: number, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, host, () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${host}:${port} within ${timeoutMs} ms`);
}

/** Starts redis-server on `host` (a 127.0.x.y address given to the test file); `args` are more of its flags (`--requirepass`). */
export async function startRedis(host: string, args: readonly string[] = []): Promise<TestRedis> {
  const port = await freePort(host);
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn('redis-server', ['--bind', host, '--port', String(port), '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...args], { stdio: 'ignore' });
    await waitListening(host, port);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await start();
  return { url: `redis://${host}:${port}`, host, port, stop, restart: start };
}
