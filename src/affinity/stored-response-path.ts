/** The Responses API paths that name a stored response instead of a model: `/v1/responses/{id}` and its `/cancel`. */

const PREFIX = '/v1/responses/';
const CANCEL = '/cancel';
const INPUT_ITEMS = '/input_items';

/** A request on a stored response: what it does, and the response's id (percent-decoded). */
export interface StoredResponseRef {
  readonly action: 'retrieve' | 'delete' | 'cancel';
  readonly id: string;
}

/**
 * `GET`/`HEAD`/`DELETE /v1/responses/{id}`, `GET /v1/responses/{id}/input_items` and
 * `POST /v1/responses/{id}/cancel`, as OpenAI's API and vLLM name them; undefined for any other request (a
 * malformed escape in the id names no response).
 */
export function storedResponseRef(method: string, path: string): StoredResponseRef | undefined {
  if (!path.startsWith(PREFIX)) return undefined;
  let rest = path.slice(PREFIX.length);
  let action: StoredResponseRef['action'];
  if (method === 'POST' && rest.endsWith(CANCEL)) {
    action = 'cancel';
    rest = rest.slice(0, -CANCEL.length);
  } else if (method === 'GET' || method === 'HEAD') {
    action = 'retrieve';
    if (rest.endsWith(INPUT_ITEMS)) rest = rest.slice(0, -INPUT_ITEMS.length);
  }
  else if (method === 'DELETE') action = 'delete';
  else return undefined;
  if (rest === '' || rest.includes('/')) return undefined;
  try {
    return { action, id: decodeURIComponent(rest) };
  } catch {
    return undefined;
  }
}

/** The methods each stored-response path takes, by what follows the id. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = { '': ['GET', 'HEAD', 'DELETE'], cancel: ['POST'], input_items: ['GET', 'HEAD'] };

/**
 * The `Allow` list of a stored-response path (`/v1/responses/{id}`, its `/cancel`, its `/input_items`) asked with a
 * method it does not take (`PUT /v1/responses/{id}`, `GET .../cancel`), as vLLM's server answers 405 there;
 * undefined for any other request. OPTIONS is left to CORS.
 */
export function storedResponseAllow(method: string, path: string): string | undefined {
  if (!path.startsWith(PREFIX) || method === 'OPTIONS') return undefined;
  const segments = path.slice(PREFIX.length).split('/');
  if (segments[0] === '' || segments.length > 2) return undefined;
  const allowed = ALLOWED[segments[1] ?? ''];
  if (allowed === undefined || allowed.includes(method)) return undefined;
  return allowed.join(', ');
}
