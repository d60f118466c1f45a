/** Compiles a Gateway API RegularExpression value so that it must match the whole input, not a substring. */

/**
 * Gateway API regexes match the full path or value (Envoy uses RE2 `FullMatch`), while a JavaScript
 * `RegExp` searches for a substring; wrapping in `^(?:...)$` keeps alternations like `a|b` whole.
 * No flags: the config reader validated the value with `new RegExp(value)`, so the same syntax applies.
 */
export function anchoredRegex(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}
