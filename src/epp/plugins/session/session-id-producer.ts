/** `session-id-producer` (llm-d): publishes a request's session id, from a header or a cookie, as a request attribute. */
import type { DataProducer, SchedulingContext } from '../../framework/plugin.js';
import type { PluginFactory } from '../../framework/registry.js';
import { attributeKey } from '../../framework/request-attribute.js';

export const SESSION_ID_PRODUCER_TYPE = 'session-id-producer';
/** llm-d's attribute name (`SessionIDDataKey`); the producer part of the key is the instance's name. */
export const SESSION_ID_ATTRIBUTE = 'SessionIDDataKey';

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** The value of cookie `name` in a `Cookie` header (`a=1; b=2`), trimmed; undefined when absent. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Reads the configured header (or cookie) and, when it is not empty, writes it as the request's
 * `SessionIDDataKey/<name>` attribute: a `session_id` source `{attribute: SessionIDDataKey, producer: <name>}`
 * reads it. Nothing is written for a request without one (no session preference).
 */
export class SessionIdProducer implements DataProducer {
  readonly type = SESSION_ID_PRODUCER_TYPE;
  readonly name: string;
  readonly produces: string;
  readonly #header: string | undefined;
  readonly #cookie: string | undefined;

  constructor(name: string, from: { header: string } | { cookie: string }) {
    this.name = name;
    this.produces = attributeKey(SESSION_ID_ATTRIBUTE, name);
    this.#header = 'header' in from ? from.header.toLowerCase() : undefined;
    this.#cookie = 'cookie' in from ? from.cookie : undefined;
  }

  produce(ctx: SchedulingContext): void {
    const raw = this.#header !== undefined ? ctx.request.header(this.#header) : cookieValue(ctx.request.header('cookie'), this.#cookie!);
    const id = raw?.trim();
    if (id) ctx.state.write(this.produces, id);
  }
}

/** Parameters: exactly one of `headerName` (a request header) and `cookieName` (a cookie of the `Cookie` header). */
export const sessionIdProducerFactory: PluginFactory = (name, _p, r) => {
  const header = r.string('headerName', '').trim();
  const cookie = r.string('cookieName', '').trim();
  if ((header === '') === (cookie === '')) r.fail(header === '' ? 'headerName' : 'cookieName', 'exactly one of headerName or cookieName must be set');
  if (header !== '' && !HEADER_NAME.test(header)) r.fail('headerName', `must be an HTTP header name, got ${JSON.stringify(header)}`);
  return new SessionIdProducer(name, header !== '' ? { header } : { cookie });
};
