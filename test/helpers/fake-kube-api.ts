/**
 * An in-process server speaking the Kubernetes list/watch wire protocol, for fast unit tests of the watch logic
 * (the integration tests use a real kube-apiserver: test/helpers/local-kube.ts). It keeps one event log per
 * collection path, answers lists (selectors, pages), streams watches from a resourceVersion, sends bookmarks,
 * answers 410 Gone for compacted versions, takes JSON merge patches of an object's status subresource, and can
 * be stopped and restarted on the same port.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/config/kube/kube-client.js';
import type { KubeTarget } from '../../src/config/kube/kube-target.js';

export interface FakeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

interface Event {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  obj: FakeObject;
  /** The object before a MODIFIED, to tell watches with selectors that it entered or left them. */
  prev?: FakeObject;
}

interface Watcher {
  path: string;
  query: URLSearchParams;
  res: ServerResponse;
}

/** A request as received; `body` is filled in for PATCH once it has been read. */
export interface FakeRequest {
  method: string;
  url: string;
  body?: string;
}

export class FakeKubeApi {
  readonly requests: FakeRequest[] = [];
  #server: Server;
  #sockets = new Set<Socket>();
  #port = 0;
  #host = '127.0.0.1';
  #rv = 100;
  /** Watches from a version below this get 410 Gone, as after etcd compaction. */
  #compactedRv = 0;
  readonly #objects = new Map<string, Map<string, FakeObject>>();
  readonly #events = new Map<string, Event[]>();
  readonly #watchers = new Set<Watcher>();
  readonly #forbidden = new Set<string>();
  readonly #missing = new Set<string>();
  readonly #unavailable = new Set<string>();

  constructor() {
    this.#server = this.#create();
  }

  get port(): number {
    return this.#port;
  }

  /** The loopback address it listens on; `start` takes another, so test files keep to their own octets. */
  async start(host = this.#host): Promise<void> {
    this.#host = host;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, host, () => resolve());
    });
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  /** Stops answering (connections reset, port closed) until `start` again on the same port. */
  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.#watchers.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server = this.#create();
  }

  /** A KubeClient pointed at this server (plain HTTP, no credentials). */
  client(namespace: string | undefined = 'default'): KubeClient {
    const config = new KubeConfig();
    config.loadFromClusterAndUser({ name: 'fake', server: `http://${this.#host}:${this.#port}`, skipTLSVerify: true }, { name: 'fake' });
    const target: KubeTarget = { config, server: `http://${this.#host}:${this.#port}`, namespace, describe: 'fake' };
    return new KubeClient(target);
  }

  /** A kubeconfig file for this server (plain HTTP), for code that takes `--kubeconfig`. */
  async writeKubeconfig(path: string, namespace: string): Promise<void> {
    await writeFile(
      path,
      `apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "http://${this.#host}:${this.#port}", insecure-skip-tls-verify: true}}]
users: [{name: fake, user: {token: "t"}}]
contexts: [{name: fake, context: {cluster: fake, user: fake, namespace: ${namespace}}}]
current-context: fake
`,
    );
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  /** Creates or replaces an object in the collection at `path` (e.g. `/api/v1/namespaces/default/pods`). */
  put(path: string, obj: FakeObject): void {
    const coll = this.#coll(path);
    const prev = coll.get(obj.metadata.name);
    const stored: FakeObject = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.#rv);
    coll.set(obj.metadata.name, stored);
    this.#emit(path, prev ? { rv: this.#rv, type: 'MODIFIED', obj: stored, prev } : { rv: this.#rv, type: 'ADDED', obj: stored });
  }

  /** A copy of the stored object (status and resourceVersion as the server has them), or undefined. */
  get(path: string, name: string): FakeObject | undefined {
    const obj = this.#objects.get(path)?.get(name);
    return obj ? structuredClone(obj) : undefined;
  }

  remove(path: string, name: string): void {
    const coll = this.#coll(path);
    const obj = coll.get(name);
    if (!obj) return;
    coll.delete(name);
    const gone = structuredClone(obj);
    gone.metadata.resourceVersion = String(++this.#rv);
    this.#emit(path, { rv: this.#rv, type: 'DELETED', obj: gone });
  }

  /** Forgets history: a watch from any version seen so far gets 410 Gone. */
  compact(): void {
    this.#compactedRv = this.#rv;
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that asked for them. */
  bookmark(): void {
    for (const w of this.#watchers) {
      if (w.query.get('allowWatchBookmarks') === 'true') w.res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Bookmark', metadata: { resourceVersion: String(this.#rv) } } }) + '\n');
    }
  }

  /** Ends every open watch cleanly (as when the server's timeoutSeconds elapses). */
  endWatches(): void {
    for (const w of this.#watchers) w.res.end();
    this.#watchers.clear();
  }

  get openWatches(): number {
    return this.#watchers.size;
  }

  /** Answers 403 Forbidden for this collection path, or an object's subresource path `<collection>/<name>/status` (or clears that). */
  forbid(path: string, on = true): void {
    if (on) this.#forbidden.add(path);
    else this.#forbidden.delete(path);
  }

  /** Answers 503 ServiceUnavailable for this collection path, as an API server that is starting (or clears that). */
  unavailable(path: string, on = true): void {
    if (on) this.#unavailable.add(path);
    else this.#unavailable.delete(path);
  }

  /** Answers 404 for this collection path, as for a CRD that is not installed (or clears that). */
  hide(path: string, on = true): void {
    if (on) this.#missing.add(path);
    else this.#missing.delete(path);
  }

  /**
   * PATCH `<collection>/<name>/status` with a merge patch: only `status` changes (as for a CRD with the status
   * subresource), `metadata.resourceVersion` in the body is a precondition (409 Conflict when stale).
   */
  #patchStatus(path: string, contentType: string | undefined, body: string, res: ServerResponse): void {
    const m = /^(.+)\/([^/]+)\/status$/.exec(path);
    if (!m) return status(res, 405, 'MethodNotAllowed', `PATCH ${path}: the fake API server patches only the status subresource`);
    if (contentType?.split(';')[0]?.trim() !== 'application/merge-patch+json') {
      return status(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json (got ${contentType ?? 'none'})`);
    }
    const collection = m[1]!;
    const name = decodeURIComponent(m[2]!);
    let patch: unknown;
    try {
      patch = JSON.parse(body);
    } catch (e) {
      return status(res, 400, 'BadRequest', `the patch is not JSON: ${(e as Error).message}`);
    }
    if (!isObject(patch)) return status(res, 400, 'BadRequest', 'a merge patch of an object must be a JSON object');
    const prev = this.#objects.get(collection)?.get(name);
    const plural = collection.split('/').pop() ?? '';
    if (!prev) return status(res, 404, 'NotFound', `${plural} "${name}" not found`);
    const wantRv = isObject(patch.metadata) ? patch.metadata.resourceVersion : undefined;
    if (wantRv !== undefined && wantRv !== null && wantRv !== prev.metadata.resourceVersion) {
      return status(res, 409, 'Conflict', `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    const stored: FakeObject = structuredClone(prev);
    if ('status' in patch) {
      const next = mergePatch(stored.status, patch.status);
      if (next === null || next === undefined) delete stored.status;
      else stored.status = next;
    }
    stored.metadata.resourceVersion = String(++this.#rv);
    this.#objects.get(collection)!.set(name, stored);
    this.#emit(collection, { rv: this.#rv, type: 'MODIFIED', obj: stored, prev });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stored));
  }

  #create(): Server {
    const server = createServer((req, res) => this.#handle(req, res));
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    return server;
  }

  #coll(path: string): Map<string, FakeObject> {
    let c = this.#objects.get(path);
    if (!c) {
      c = new Map();
      this.#objects.set(path, c);
      this.#events.set(path, []);
    }
    return c;
  }

  #emit(path: string, ev: Event): void {
    this.#events.get(path)!.push(ev);
    for (const w of this.#watchers) if (w.path === path) send(w.res, ev, w.query);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const entry: FakeRequest = { method: req.method ?? 'GET', url: req.url ?? '/' };
    this.requests.push(entry);
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const q = url.searchParams;
    const verb = req.method === 'PATCH' ? 'patch' : 'list';
    if (this.#forbidden.has(path)) return status(res, 403, 'Forbidden', `${path} is forbidden: User "test" cannot ${verb} resource`);
    if (this.#unavailable.has(path)) return status(res, 503, 'ServiceUnavailable', 'server is starting');
    // As the real API server: a selector term that is no `key=value` is refused, the whole request with it.
    for (const sel of [q.get('fieldSelector'), q.get('labelSelector')]) {
      const bad = sel?.split(',').find((term) => !/^[^=!]+(==?|!=)[^=]*$/.test(term));
      if (bad !== undefined) return status(res, 400, 'BadRequest', `invalid selector: '${sel}'; can't understand '${bad}'`);
    }
    if (this.#missing.has(path)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    if (req.method === 'PATCH') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        entry.body = Buffer.concat(chunks).toString('utf8');
        this.#patchStatus(path, req.headers['content-type'], entry.body, res);
      });
      return;
    }
    const coll = this.#coll(path);
    if (q.get('watch') === 'true') {
      const from = Number(q.get('resourceVersion') ?? '0');
      res.writeHead(200, { 'content-type': 'application/json' });
      // The real API server sends the headers at once, before any event: a quiet collection's watch is open then.
      res.flushHeaders();
      if (from < this.#compactedRv) {
        // The real API server answers 200, then one ERROR event carrying a 410 Status, then ends.
        res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: `too old resource version: ${from} (${this.#compactedRv})` } }) + '\n');
        return;
      }
      const w: Watcher = { path, query: q, res };
      for (const ev of this.#events.get(path)!) if (ev.rv > from) send(res, ev, q);
      this.#watchers.add(w);
      const timeout = Number(q.get('timeoutSeconds') ?? '0');
      const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
      res.on('close', () => {
        if (timer) clearTimeout(timer);
        this.#watchers.delete(w);
      });
      return;
    }
    const all = [...coll.values()].filter((o) => matches(o, q)).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
    const limit = Number(q.get('limit') ?? '0');
    const offset = Number(q.get('continue') || '0');
    const page = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
    const next = limit > 0 && offset + limit < all.length ? String(offset + limit) : undefined;
    // Items of a list carry no kind/apiVersion, as from the real server.
    const items = page.map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.#rv), ...(next ? { continue: next } : {}) }, items }));
  }
}

/** RFC 7386 JSON merge patch: objects merge key by key, `null` deletes a key, anything else (arrays too) replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** As the API server does for a watch with a selector: an object entering it is ADDED, one leaving it DELETED. */
function send(res: ServerResponse, ev: Event, q: URLSearchParams): void {
  const now = matches(ev.obj, q);
  const before = ev.prev ? matches(ev.prev, q) : false;
  let type: string | undefined = ev.type;
  if (ev.type === 'MODIFIED') type = now && before ? 'MODIFIED' : now ? 'ADDED' : before ? 'DELETED' : undefined;
  else if (!now) type = undefined;
  if (type) res.write(JSON.stringify({ type, object: ev.obj }) + '\n');
}

function matches(obj: FakeObject, q: URLSearchParams): boolean {
  const labels = q.get('labelSelector');
  if (labels) {
    for (const term of labels.split(',')) {
      const [k, v] = term.split('=');
      if (obj.metadata.labels?.[k!] !== v) return false;
    }
  }
  const fields = q.get('fieldSelector');
  if (fields) {
    for (const term of fields.split(',')) {
      const [k, v] = term.split('=');
      if (k === 'metadata.name' && obj.metadata.name !== v) return false;
    }
  }
  return true;
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message }));
}
