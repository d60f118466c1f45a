/** The request target in absolute-form (`GET http://host/path`, as a client sends through a proxy), made origin-form; the forms the gateway does not route. */
import { GatewayError, shown } from '../errors.js';

/**
 * RFC 9112 §3.2.2: a server must accept absolute-form. The gateway routes on its path and query and forwards
 * those upstream; its authority stands for the Host header (§3.2.2: the target's host wins over Host). undefined
 * for anything other than an http(s) URL (`*`, authority-form), which then goes on as sent.
 */
export function originForm(target: string): { url: string; host: string } | undefined {
  if (!ABSOLUTE_HTTP.test(target)) return undefined;
  try {
    const u = new URL(target);
    return { url: `${u.pathname}${u.search}`, host: u.host };
  } catch {
    return undefined;
  }
}

/**
 * `OPTIONS *` (asterisk-form, RFC 9112 §3.2.4): a question about the server itself, not about a resource
 * (RFC 9110 §9.3.7), that no pod can answer: the gateway answers it.
 */
export function isServerOptions(method: string, target: string): boolean {
  return method === 'OPTIONS' && target === '*';
}

/**
 * The 400 for a target that is neither a path nor an http(s) URL: `*` with a method other than OPTIONS, an
 * `ftp://` URL, an http URL that does not parse (`http://[bad/`, a port past 65535). Such a target has no path
 * to route on, and forwarded it was refused by the upstream client before any pod saw it, which outlier
 * detection counted against the endpoint picked: three such requests ejected a healthy pod.
 */
export function unroutableTarget(method: string, target: string): GatewayError {
  return new GatewayError(
    'bad_request',
    `${method} ${shown(target)}: the request target is neither a path nor a valid http(s) URL; send the request to a path, as in ${method} /v1/chat/completions`,
  );
}

/**
 * The 400 for a target with a fragment (`/sleep#x`), which no request target may carry (RFC 9112 §3.2; a client
 * keeps it to itself). uvicorn's parser (so vLLM's) drops it and routes on the path before it, so forwarded as
 * sent, `POST /v1/load_lora_adapter#x` reached the admin endpoint that the gateway refuses by its path; Envoy
 * refuses such targets too.
 */
export function fragmentInTarget(method: string, target: string): GatewayError {
  return new GatewayError('bad_request', `${method} ${shown(target)}: the request target has a fragment (from #), which a request must not carry (RFC 9112 §3.2); send the path and query without it`);
}

const ABSOLUTE_HTTP = /^https?:\/\//i;
