/** Compiles a Gateway API RegularExpression value so that it must match the whole input, not a substring. */

/** RE2's leading flag group (`(?i)`, `(?is)`), with the flags JavaScript has under the same letters. */
const LEADING_FLAGS = /^\(\?([ims]+)\)/;

/**
 * Gateway API regexes match the full path or value (Envoy uses RE2 `FullMatch`), while a JavaScript
 * `RegExp` searches for a substring; wrapping in `^(?:...)$` keeps alternations like `a|b` whole.
 * A leading RE2 flag group (`(?i)` for a case-insensitive match, as routes written for Envoy-based Gateways
 * use) becomes the JavaScript flags of the same meaning, which JavaScript cannot write inside a pattern.
 * Otherwise JavaScript syntax; the config reader validates the value with this same function.
 */
export function anchoredRegex(pattern: string): RegExp {
  const flags = LEADING_FLAGS.exec(pattern);
  const body = flags ? pattern.slice(flags[0].length) : pattern;
  return new RegExp(`^(?:${body})$`, flags ? [...new Set(flags[1])].join('') : '');
}

/** Matches nothing: what a regex that does not compile stands for once it is reported. */
const NOTHING = /(?!)/;

/**
 * anchoredRegex, or a RegExp that matches nothing when `pattern` does not compile. The config reader reports such
 * a value (serve refuses the configuration), but `validate` still compiles the routes for the rest of its report,
 * which a throw here would end with a bare "Invalid regular expression" instead.
 */
export function anchoredRegexOrNothing(pattern: string): RegExp {
  try {
    return anchoredRegex(pattern);
  } catch {
    return NOTHING;
  }
}
