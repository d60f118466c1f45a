/** Normalises a request path the way a model server might read it, so no spelling of a path slips past a check. */

/**
 * Percent-decodes (repeatedly, so `%252e` cannot hide a dot), turns backslashes into slashes, merges repeated
 * slashes, resolves `.` and `..` segments (never above the root), drops a trailing slash and lower-cases.
 * The result is only compared against, never forwarded: the request goes upstream as the client sent it.
 */
export function normalizePath(raw: string): string {
  // The common case (`/v1/chat/completions`) has nothing to undo: no split, no allocation beyond the result.
  if (raw.startsWith('/') && !/[%\\]|\/\.|\/\/|\/$/.test(raw)) return raw.toLowerCase();
  // An absolute-form target (`POST http://host/sleep`) is read by its path.
  let path = raw.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  // Three rounds undo double and triple encodings; a path still encoded after that is left as it is.
  for (let i = 0; i < 3 && path.includes('%'); i++) {
    const decoded = decodeLoosely(path);
    if (decoded === path) break;
    path = decoded;
  }
  const out: string[] = [];
  for (const segment of path.replace(/\\/g, '/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return `/${out.join('/')}`.toLowerCase();
}

/** decodeURIComponent that decodes each valid `%XX` and leaves malformed escapes as they are, instead of throwing. */
function decodeLoosely(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}
