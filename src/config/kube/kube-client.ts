/**
 * The few API calls infergate makes (list, watch, patch status), over node:http(s) with the credentials
 * @kubernetes/client-node resolves from the kubeconfig (tokens, client certificates, exec plugins, in-cluster
 * token files that rotate: applied again on every request).
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KubeTarget } from './kube-target.js';

/** An error answer from the API server, with its HTTP status and the Status object's reason and message. */
export class KubeApiError extends Error {
  readonly status: number;
  /** `Forbidden`, `NotFound`, `Expired`, `Gone`, `Conflict`... from the Status body when it has one. */
  readonly reason: string | undefined;
  constructor(status: number, reason: string | undefined, message: string) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
  }
}

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * How long a call may wait for the API server's answer, and then go without a byte of it (a list's body), before it
 * fails and its caller retries. The API server ends its own non-watch requests at 60 s (--request-timeout), so a
 * live server answers within this; without it, a list or a watch sent on a connection whose peer vanished without a
 * reset (a crashed node, a dropped NAT entry, a hung API server) waits for the kernel's TCP timeout, about 15 min.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 70_000;

export class KubeClient {
  readonly target: KubeTarget;
  readonly #timeoutMs: number;

  constructor(target: KubeTarget, opts: { requestTimeoutMs?: number } = {}) {
    this.target = target;
    this.#timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /** GET returning the parsed JSON body; throws KubeApiError on a non-2xx answer. */
  async getJson(path: string, query: Query = {}, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const res = await this.#send('GET', path, query, undefined, undefined, signal);
    return readJson(res, 'GET', path);
  }

  /** PATCH with `contentType` (merge patch by default), returning the object the server answers with. */
  async patch(path: string, body: unknown, contentType = 'application/merge-patch+json', signal?: AbortSignal): Promise<Record<string, unknown>> {
    const res = await this.#send('PATCH', path, {}, JSON.stringify(body), contentType, signal);
    return readJson(res, 'PATCH', path);
  }

  /**
   * Opens a watch (`?watch=true`): resolves with the response stream of newline-separated JSON events once the
   * server answered 200, or throws KubeApiError. The caller reads and ends it (abort `signal` to stop).
   */
  async watch(path: string, query: Query, signal: AbortSignal): Promise<IncomingMessage> {
    const res = await this.#send('GET', path, { ...query, watch: true }, undefined, undefined, signal);
    if (res.statusCode !== 200) await readJson(res, 'WATCH', path); // throws with the server's Status
    // An open watch may be quiet for minutes: from here the reflector's idle timer judges it, not the request timeout.
    res.setTimeout(0);
    return res;
  }

  async #send(method: string, path: string, query: Query, body: string | undefined, contentType: string | undefined, signal?: AbortSignal): Promise<IncomingMessage> {
    const url = new URL(this.target.server + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    const opts: RequestOptions & { headers: Record<string, string> } = { method, headers: { accept: 'application/json' } };
    if (contentType) opts.headers['content-type'] = contentType;
    // Re-applied per request: exec plugins and projected service-account tokens hand out short-lived tokens.
    await this.target.config.applyToHTTPSOptions(opts);
    if (signal) opts.signal = signal;
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const timeoutMs = this.#timeoutMs;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, opts, resolve);
      req.on('error', reject);
      // Socket inactivity: until the answer's headers, then between chunks of its body.
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer from the API server at ${this.target.server} for ${timeoutMs / 1000} s`)));
      req.end(body);
    });
  }
}

async function readJson(res: IncomingMessage, method: string, path: string): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const status = res.statusCode ?? 0;
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = undefined;
  }
  if (status >= 200 && status < 300 && parsed && typeof parsed === 'object') return parsed as Record<string, unknown>;
  const s = (parsed ?? {}) as { reason?: unknown; message?: unknown };
  const reason = typeof s.reason === 'string' ? s.reason : undefined;
  const message = (typeof s.message === 'string' ? s.message : text.slice(0, 200)).trim() || `HTTP ${status}`;
  if (status >= 200 && status < 300) throw new KubeApiError(status, 'BadResponse', `${method} ${path}: the API server answered ${status} with a body that is not a JSON object`);
  throw new KubeApiError(status, reason, `${method} ${path}: ${status}${reason ? ` ${reason}` : ''}: ${message}`);
}
