/** Child processes for scenarios: start, wait until they answer, measure RSS, and stop them all on exit. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));
export const SERVICE_PROXY = fileURLToPath(new URL('./service-proxy.js', import.meta.url));

const children = new Set<ChildProcess>();
let hooked = false;

/** Starts a process; its stderr goes to ours only when it fails early (so a broken setup is visible). */
export function start(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (err.length < 4000) err += d.toString();
  });
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (code !== 0 && code !== null && signal === null) process.stderr.write(`\n${command} ${args.join(' ')} exited with ${code}:\n${err}\n`);
  });
  children.add(child);
  if (!hooked) {
    hooked = true;
    const stopAll = (): void => {
      for (const c of children) c.kill('SIGTERM');
    };
    process.on('exit', stopAll);
    process.on('SIGINT', () => {
      stopAll();
      process.exit(130);
    });
  }
  return child;
}

export function startNode(script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return start(process.execPath, [script, ...args], env);
}

/** Polls a URL until it answers 2xx, up to `timeoutMs`. */
export async function waitForUrl(url: string, timeoutMs = 15_000, init?: RequestInit): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    try {
      const r = await fetch(url, init);
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not become ready in ${timeoutMs} ms (${last})`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c)));
}

/** Resident set size of a process in MiB, from /proc (Linux). */
export function rssMiB(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc; null when unknown. Read before and after
 * a load round, it gives CPU per request: a figure other jobs on the machine disturb far less than req/s.
 */
export function cpuMs(pid: number | undefined): number | null {
  return pid === undefined ? null : statCpuMs(`/proc/${pid}/stat`);
}

/**
 * CPU time (ms) of a process's main thread alone (its request thread, for Node), from /proc/PID/task/PID. Over a
 * loaded round, near the round's length means that thread was saturated: throughput is then one thread's work
 * per request (docs/benchmarks.md, "Which thread limits throughput").
 */
export function mainThreadCpuMs(pid: number | undefined): number | null {
  return pid === undefined ? null : statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

function statCpuMs(path: string): number | null {
  try {
    // Fields after the command name: state is field 3, utime 14 and stime 15 (clock ticks of 10 ms).
    const f = readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}
