/** The metric names a PromQL expression reads, for checking a dashboard's queries against a live /metrics. */

/** PromQL words that are not metric names when they stand without a `(` after them. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'inf', 'nan', 'atan2']);

/**
 * Metric names in `expr`: identifiers outside strings, label matchers, ranges and grouping lists that are not
 * followed by `(` (functions and aggregations) and are not keywords. Grafana's `$variables` are dropped.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_:]*\}?/g, ' '); // Grafana variables
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const rest = stripped.slice(m.index! + word.length);
    if (/^\s*\(/.test(rest)) continue; // a function or an aggregation
    if (KEYWORDS.has(word.toLowerCase())) continue;
    // A number's exponent (1e3) is not a name.
    if (m.index! > 0 && /[0-9.]/.test(stripped[m.index! - 1]!)) continue;
    names.add(word);
  }
  return [...names];
}

/** `label_values(metric, label)` -> metric; undefined for other template queries. */
export function labelValuesMetric(query: string): string | undefined {
  return /^\s*label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,/.exec(query)?.[1];
}

/**
 * Whether `name` is served by the exposition whose `# TYPE` lines gave `types` (family -> type): the family
 * itself, or a histogram's `_bucket`/`_sum`/`_count` (a summary's `_sum`/`_count`).
 */
export function exposes(types: ReadonlyMap<string, string>, name: string): boolean {
  if (types.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!m) return false;
  const t = types.get(m[1]!);
  return t === 'histogram' || (t === 'summary' && m[2] !== 'bucket');
}

/** `# TYPE name type` lines of a Prometheus text exposition. */
export function exposedTypes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/**
 * Label names `expr` selects or groups by: in label matchers (`{a="x", b=~"y"}`) and in `by`, `without`, `on`,
 * `ignoring`, `group_left` and `group_right` lists; `le` aside (every histogram has it).
 */
export function labelNames(expr: string): string[] {
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  const names = new Set<string>();
  for (const m of noStrings.matchAll(/\{([^}]*)\}/g)) for (const l of m[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)) names.add(l[1]!);
  for (const m of noStrings.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) for (const l of m[1]!.split(',')) if (l.trim() !== '') names.add(l.trim());
  names.delete('le');
  return [...names];
}

/** Family -> the label names its samples carry (a histogram's `_bucket`, `_sum` and `_count` under its family; `le` aside). */
export function exposedLabels(text: string, types: ReadonlyMap<string, string>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of text.matchAll(/^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{([^\n]*)\})? \S+$/gm)) {
    let name = m[1]!;
    const h = /^(.*)_(bucket|sum|count)$/.exec(name);
    if (h && !types.has(name) && types.has(h[1]!)) name = h[1]!;
    let set = out.get(name);
    if (!set) out.set(name, (set = new Set()));
    for (const l of (m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="(?:[^"\\]|\\.)*"/g)) if (l[1] !== 'le') set.add(l[1]!);
  }
  return out;
}
