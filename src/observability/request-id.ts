/** The request's id: the client's `X-Request-Id` when it is a usable one, else a new one. */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';

/** Longer client ids are replaced: the id is echoed, logged and traced with every request. */
export const MAX_REQUEST_ID_LENGTH = 200;

/**
 * The id for a request whose `X-Request-Id` is `sent`: its first value (Node joins repeated headers with `, `)
 * when that is 1 to MAX_REQUEST_ID_LENGTH visible ASCII characters, else a new UUID (logged at debug, so
 * whoever set the id can find why it was not kept). A request without one costs a UUID, as it always did.
 */
export function requestIdOf(sent: string | string[] | undefined, log: Logger): string {
  if (sent === undefined) return randomUUID();
  const all = Array.isArray(sent) ? (sent[0] ?? '') : sent;
  const comma = all.indexOf(',');
  const first = comma < 0 ? all : all.slice(0, comma).trim();
  if (USABLE.test(first)) return first;
  const id = randomUUID();
  log.debug('client x-request-id replaced: want 1 to 200 visible ASCII characters', { request_id: id, sent_length: first.length, sent_start: first.slice(0, 40) });
  return id;
}

const USABLE = new RegExp(`^[\\x21-\\x7e]{1,${MAX_REQUEST_ID_LENGTH}}$`);
