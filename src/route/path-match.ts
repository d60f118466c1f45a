/** HTTPRoute path matching (Exact, PathPrefix, RegularExpression), compiled once per configuration. */
import type { PathMatch } from '../api/http-route.js';
import { anchoredRegexOrNothing } from '../api/anchored-regex.js';

/** A path match ready for the hot path, with the keys route precedence sorts on. */
export interface CompiledPath {
  /** True when the request path (without query) satisfies the match. */
  test(path: string): boolean;
  /** 0 Exact, 1 PathPrefix, 2 RegularExpression: lower wins. */
  readonly rank: 0 | 1 | 2;
  /** Characters in the value that count for precedence (longer wins); 0 for regexes. */
  readonly length: number;
}

export function compilePath(match: PathMatch): CompiledPath {
  switch (match.type) {
    case 'Exact': {
      const value = match.value;
      return { rank: 0, length: value.length, test: (path) => path === value };
    }
    case 'PathPrefix': {
      const prefix = trimTrailingSlashes(match.value);
      // "/" (trimmed to "") matches every request, including odd targets such as "*" or "".
      if (prefix === '') return { rank: 1, length: 0, test: () => true };
      const withSlash = prefix + '/';
      // Element-wise: "/v1" matches "/v1" and "/v1/x" but not "/v1x" (Gateway API PathPrefix semantics).
      // Precedence counts the trimmed value so "/v1/" and "/v1", which match the same paths, tie and the
      // later criteria (method, headers, query params) decide.
      return { rank: 1, length: prefix.length, test: (path) => path === prefix || path.startsWith(withSlash) };
    }
    case 'RegularExpression': {
      const re = anchoredRegexOrNothing(match.value);
      return { rank: 2, length: 0, test: (path) => re.test(path) };
    }
  }
}

function trimTrailingSlashes(value: string): string {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 0x2f /* "/" */) end--;
  return value.slice(0, end);
}
