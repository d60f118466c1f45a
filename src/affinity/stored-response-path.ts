/** The Responses API paths that name a stored response instead of a model: `/v1/responses/{id}` and its `/cancel`. */

const PREFIX = '/v1/responses/';

/** A request on a stored response: what it does, and the response's id (percent-decoded). */
export interface StoredResponseRef {
  readonly action: 'retrieve' | 'delete' | 'cancel';
  readonly id: string;
}

/** What follows the id in a stored response's path: nothing, `cancel` or `input_items`. */
type SubPath = '' | 'cancel' | 'input_items';

/** The methods each stored-response path takes, and what each does there. */
const ACTIONS: Readonly<Record<SubPath, Readonly<Record<string, StoredResponseRef['action']>>>> = {
  '': { GET: 'retrieve', HEAD: 'retrieve', DELETE: 'delete' },
  cancel: { POST: 'cancel' },
  input_items: { GET: 'retrieve', HEAD: 'retrieve' },
};

/** `/v1/responses/{id}[/cancel|/input_items]` split into its raw id and what follows; undefined for any other path. */
function storedPath(path: string): { rawId: string; sub: SubPath } | undefined {
  if (!path.startsWith(PREFIX)) return undefined;
  const segments = path.slice(PREFIX.length).split('/');
  const rawId = segments[0]!;
  if (rawId === '' || segments.length > 2) return undefined;
  const sub = segments[1] ?? '';
  return Object.hasOwn(ACTIONS, sub) ? { rawId, sub: sub as SubPath } : undefined;
}

/**
 * `GET`/`HEAD`/`DELETE /v1/responses/{id}`, `GET /v1/responses/{id}/input_items` and
 * `POST /v1/responses/{id}/cancel`, as OpenAI's API and vLLM name them; undefined for any other request (a
 * malformed escape in the id names no response).
 */
export function storedResponseRef(method: string, path: string): StoredResponseRef | undefined {
  const p = storedPath(path);
  const action = p === undefined ? undefined : ACTIONS[p.sub][method];
  if (action === undefined) return undefined;
  try {
    return { action, id: decodeURIComponent(p!.rawId) };
  } catch {
    return undefined;
  }
}

/**
 * The `Allow` list of a stored-response path (`/v1/responses/{id}`, its `/cancel`, its `/input_items`) asked with a
 * method it does not take (`PUT /v1/responses/{id}`, `GET .../cancel`), as vLLM's server answers 405 there;
 * undefined for any other request. OPTIONS is left to CORS.
 */
export function storedResponseAllow(method: string, path: string): string | undefined {
  if (method === 'OPTIONS') return undefined;
  const p = storedPath(path);
  if (p === undefined) return undefined;
  const allowed = ACTIONS[p.sub];
  return Object.hasOwn(allowed, method) ? undefined : Object.keys(allowed).join(', ');
}
