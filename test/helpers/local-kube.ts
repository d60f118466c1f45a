/** A real kube-apiserver + etcd on loopback for integration tests (wraps the `local-kube` tool), with the CRDs infergate reads. */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeApiError, KubeTestClient, CRD, NAMESPACE, resourceOf, resourcePath, type KubeObject } from './kube-test-client.js';

export interface LocalKube {
  /** Holds kubeconfig, env, certs/, etcd-data/, the logs and PID files. */
  dir: string;
  /** Like https://127.0.0.1:PORT. */
  server: string;
  /** The admin token (group system:masters). */
  token: string;
  kubeconfigPath: string;
  /** Acts as admin. */
  client: KubeTestClient;
  /** Writes DIR/NAME.kubeconfig like local-kube's own but authenticating with `token`; returns its path. */
  writeKubeconfig(name: string, token: string, namespace?: string): Promise<string>;
  /**
   * Stops only the API server (etcd keeps the data): SIGTERM, then SIGKILL after 1 s (a terminating API server
   * otherwise holds open watches for up to a minute). Clients see connection refused until restartApiServer.
   */
  stopApiServer(): Promise<void>;
  /** Starts the API server again with the very same command line (port, certs, tokens), then waits for /readyz. */
  restartApiServer(): Promise<void>;
  /** Stops etcd and the API server and removes `dir`. */
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 15 * 60_000; // a cold cache builds kube-apiserver from source first (about 5 minutes)
const READY_TIMEOUT_MS = 60_000; // about 6 s on an idle machine, 20 s seen under load
const EXIT_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 1000;

/** The repository root: the nearest folder above this file (source or compiled) that holds package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
}

const HOW_TO_GET_IT = [
  'The Kubernetes integration tests need a real kube-apiserver; they do not skip without one.',
  'Get the `local-kube` script (it lives in the shared tools folder next to the repository, shared/tools/local-kube)',
  'and point LOCAL_KUBE=/path/to/local-kube at it, or put it at <repo>/../shared/tools/local-kube.',
  'It builds kube-apiserver 1.20 from Debian\'s source package once (about 5 minutes, root for apt-get; run `local-kube build` ahead),',
  'then starts it with etcd on loopback in about 7 seconds.',
].join('\n');

/** The local-kube script: $LOCAL_KUBE, else <repo>/../shared/tools/local-kube, else /work/shared/tools/local-kube. */
export function findLocalKube(): string {
  const fromEnv = process.env.LOCAL_KUBE;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`LOCAL_KUBE=${fromEnv} does not exist.\n${HOW_TO_GET_IT}`);
    return fromEnv;
  }
  const candidates = [resolve(repoRoot(), '..', 'shared', 'tools', 'local-kube'), '/work/shared/tools/local-kube'];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`local-kube not found (looked at $LOCAL_KUBE, ${candidates.join(', ')}).\n${HOW_TO_GET_IT}`);
  return found;
}

function run(file: string, args: string[], timeout: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    execFile(file, args, { timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) rej(Object.assign(err, { stdout, stderr }));
      else res({ stdout, stderr });
    });
  });
}

async function tail(path: string, lines = 20): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${path})`;
  }
}

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** Whether the PID is a live process (a zombie, left unreaped by a container's init, counts as gone). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The state follows the parenthesised command name, which may itself contain spaces or parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Waits up to `graceMs` for the process to exit, then kills it and waits (bounded) until it is gone. */
async function waitGone(pid: number, graceMs = EXIT_TIMEOUT_MS): Promise<void> {
  const poll = async (ms: number): Promise<boolean> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (!(await alive(pid))) return true;
      await new Promise((r) => setTimeout(r, 25));
    }
    return false;
  };
  if (await poll(graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // already gone
  }
  await poll(EXIT_TIMEOUT_MS);
}

async function readPid(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function waitReady(client: KubeTestClient, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    try {
      await client.request('GET', '/readyz');
      return;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the API server was not ready within ${timeoutMs} ms: ${last}`);
}

/** Starts etcd + kube-apiserver in a fresh temp folder. Throws, explaining how to get local-kube, when it cannot. */
export async function startLocalKube(): Promise<LocalKube> {
  const script = findLocalKube();
  const dir = await mkdtemp(join(tmpdir(), 'infergate-kube-'));
  const apiPidFile = join(dir, 'apiserver.pid');
  const stop = async (): Promise<void> => {
    const pids = [await readPid(apiPidFile), await readPid(join(dir, 'etcd.pid'))].filter((p): p is number => p !== undefined);
    await run(script, ['stop', dir], 30_000).catch(() => undefined);
    await Promise.all(pids.map((p) => waitGone(p)));
  };
  try {
    await run(script, ['start', dir], START_TIMEOUT_MS);
  } catch (e) {
    const err = e as Error & { stderr?: string };
    const detail = `${err.message}\n${err.stderr ?? ''}\napiserver.log:\n${await tail(join(dir, 'apiserver.log'))}\netcd.log:\n${await tail(join(dir, 'etcd.log'), 5)}`;
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw new Error(`\`${script} start ${dir}\` failed:\n${detail}\n\n${HOW_TO_GET_IT}`);
  }
  const env = parseEnv(await readFile(join(dir, 'env'), 'utf8'));
  const server = env.LOCAL_KUBE_SERVER;
  const token = env.LOCAL_KUBE_TOKEN;
  const kubeconfigPath = env.KUBECONFIG;
  if (!server || !token || !kubeconfigPath) {
    await stop();
    throw new Error(`${dir}/env lacks LOCAL_KUBE_SERVER, LOCAL_KUBE_TOKEN or KUBECONFIG; is ${script} the right tool?`);
  }
  const client = new KubeTestClient(server, token);
  // Kept from the first stop, so every restart runs the command local-kube itself ran.
  let cmdline: string[] | undefined;

  return {
    dir,
    server,
    token,
    kubeconfigPath,
    client,
    writeKubeconfig: async (name, userToken, namespace = 'default') => {
      const path = join(dir, `${name}.kubeconfig`);
      await writeFile(path, kubeconfigText(server, userToken, namespace), { mode: 0o600 });
      return path;
    },
    stopApiServer: async () => {
      const pid = await readPid(apiPidFile);
      if (pid === undefined || !(await alive(pid))) throw new Error('the API server is not running');
      cmdline ??= (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((a) => a !== '');
      process.kill(pid, 'SIGTERM');
      // A terminating API server keeps open watches for up to a minute; past the grace period, end it as a crash would.
      await waitGone(pid, STOP_GRACE_MS);
    },
    restartApiServer: async () => {
      if (!cmdline) throw new Error('restartApiServer needs a stopApiServer first');
      const [bin, ...args] = cmdline;
      const log = openSync(join(dir, 'apiserver.log'), 'a');
      try {
        const child = spawn(bin!, args, { detached: true, stdio: ['ignore', log, log] });
        child.unref();
        if (child.pid === undefined) throw new Error(`could not spawn ${bin}`);
        // local-kube stop kills what this file names.
        await writeFile(apiPidFile, `${child.pid}\n`);
      } finally {
        closeSync(log);
      }
      try {
        await waitReady(client, READY_TIMEOUT_MS);
      } catch (e) {
        throw new Error(`${(e as Error).message}\napiserver.log:\n${await tail(join(dir, 'apiserver.log'))}`);
      }
    },
    close: async () => {
      await client.close();
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function kubeconfigText(server: string, token: string, namespace: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "${server}", insecure-skip-tls-verify: true}
users:
- name: user
  user: {token: "${token}"}
contexts:
- name: local
  context: {cluster: local, user: user, namespace: ${namespace}}
current-context: local
`;
}

/**
 * Applies test/fixtures/kube/crds.yaml (or another file there: `gateway-crds.yaml` for Gateway and GatewayClass)
 * and waits until each CRD is Established and its resource is served.
 */
export async function applyCrds(client: KubeTestClient, timeoutMs = 30_000, file = 'crds.yaml'): Promise<void> {
  const crds = await client.applyYaml(await readFile(join(repoRoot(), 'test', 'fixtures', 'kube', file), 'utf8'));
  const end = Date.now() + timeoutMs;
  for (const crd of crds) {
    const name = crd.metadata.name;
    const spec = crd.spec as { group: string; names: { kind: string }; versions: { name: string; served: boolean }[] };
    for (;;) {
      const got = await client.get(CRD, undefined, name);
      const conditions = ((got?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
      if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > end) throw new Error(`CRD ${name} was not Established within ${timeoutMs} ms: ${JSON.stringify(conditions)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Established can come a moment before the API server routes the new resource; list it to be sure.
    for (const v of spec.versions.filter((x) => x.served)) {
      const type = resourceOf(`${spec.group}/${v.name}`, spec.names.kind);
      for (;;) {
        try {
          await client.request('GET', resourcePath(type, 'default'));
          break;
        } catch (e) {
          if (!(e instanceof KubeApiError && e.status === 404) || Date.now() > end) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  }
}

/** Creates a namespace with a fresh random name (`prefix-xxxxxxxx`) and returns the name. */
export async function createNamespace(client: KubeTestClient, prefix = 't'): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
  await client.request('POST', resourcePath(NAMESPACE, undefined), ns);
  return name;
}
