/** The real CLI as a child process (`node dist/src/cli/main.js ...`), for tests that send it signals. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './local-kube.js';

export interface CliProcess {
  child: ChildProcess;
  /** stderr so far (the log), line by line. */
  lines: string[];
  /** Resolves with the first log line matching `re` (already printed or to come); rejects after `ms`. */
  line(re: RegExp, ms?: number): Promise<string>;
  /** Exit code (null when a signal ended it) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` if the process still runs. */
  kill(signal: NodeJS.Signals): void;
}

/** How to start infergate when not from the checkout's built tree: the command line before ARGS, its folder and environment. */
export interface Launch {
  command: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts `infergate ARGS` (from the built tree, or as `launch` says) and resolves once `ready` appears on its
 * stderr (rejects if it exits or takes over `ms`).
 */
export async function startCli(args: readonly string[], ready: RegExp, ms = 15_000, launch?: Launch): Promise<CliProcess> {
  const [file, ...before] = launch?.command ?? [process.execPath, join(repoRoot(), 'dist/src/cli/main.js')];
  const child = spawn(file!, [...before, ...args], { stdio: ['ignore', 'ignore', 'pipe'], cwd: launch?.cwd, env: launch?.env ?? process.env });
  const lines: string[] = [];
  const waiters = new Set<{ re: RegExp; resolve: (l: string) => void }>();
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      if (process.env.INFERGATE_TEST_LOG === 'debug') process.stderr.write(`[cli ${child.pid}] ${l}\n`);
      for (const w of waiters) if (w.re.test(l)) {
        waiters.delete(w);
        w.resolve(l);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const line = (re: RegExp, timeoutMs = 10_000): Promise<string> => {
    const seen = lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { re, resolve: (l: string): void => {
        clearTimeout(timer);
        resolve(l);
      } };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`no log line matching ${re} within ${timeoutMs} ms; the log:\n${lines.join('\n')}`));
      }, timeoutMs);
      waiters.add(w);
      void exited.then(() => setTimeout(() => {
        if (!waiters.has(w)) return;
        waiters.delete(w);
        clearTimeout(timer);
        reject(new Error(`the process exited before a log line matching ${re}; the log:\n${lines.join('\n')}`));
      }, 50));
    });
  };
  const proc: CliProcess = {
    child,
    lines,
    line,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  try {
    await line(ready, ms);
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
  return proc;
}
