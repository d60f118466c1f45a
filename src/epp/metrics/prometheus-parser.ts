/** Parses the Prometheus text exposition format (0.0.4) without throwing, skipping unwanted metrics cheaply. */

/** Label names to values, as the line wrote them (escapes undone). */
export type Labels = Readonly<Record<string, string>>;

/** One sample line. */
export interface Sample {
  readonly labels: Labels;
  /** May be NaN or ±Infinity: the format allows them. */
  readonly value: number;
  /** The optional trailing timestamp, ms since epoch. */
  readonly timestampMs?: number;
}

/** What `# HELP` and `# TYPE` said about a metric family. */
export interface FamilyInfo {
  type?: string;
  help?: string;
}

/** A line that was skipped, 1-based, and why. */
export interface ParseIssue {
  readonly line: number;
  readonly reason: string;
}

/** A parsed exposition, queried by sample name. */
export interface Exposition {
  /**
   * Samples by *sample* name, in file order: a histogram `h` appears as `h_bucket`, `h_sum` and `h_count`, as
   * on the wire, so lookups need no knowledge of metric types.
   */
  readonly samples: ReadonlyMap<string, readonly Sample[]>;
  /** HELP and TYPE by family name (only for kept names when an allow-list is used). */
  readonly families: ReadonlyMap<string, FamilyInfo>;
  /** Lines that could not be parsed and were skipped. Lines dropped by `keep` are not inspected, so never count. */
  readonly invalidLines: number;
  /** The first few invalid lines, for error messages. */
  readonly issues: readonly ParseIssue[];
}

export interface ParseOptions {
  /**
   * Sample names to keep (histogram series by their suffixed names). Other lines are skipped unparsed, most
   * without even a substring: reading vLLM's 6 scheduling gauges out of its ~570-line /metrics this way is
   * about 9x cheaper than a full parse (bench/metrics-scrape.ts). Compiled once per set, so the set must not
   * change once passed.
   */
  keep?: ReadonlySet<string>;
}

const MAX_ISSUES = 10;

const TAB = 9;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const EQUALS = 61;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/** [a-zA-Z0-9_:] and, when `colon` is false, without ':' (label names). */
function isNameChar(c: number, colon: boolean): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || (colon && c === 58);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** A value token: Go's ParseFloat spellings of NaN and infinity (any case), else a JS number literal. */
function parseValue(token: string): number {
  const n = Number(token);
  if (!Number.isNaN(n)) return token.length > 0 ? n : NaN;
  switch (token.toLowerCase()) {
    case 'nan':
      return NaN;
    case '+inf':
    case 'inf':
    case '+infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
    default:
      return Number.NaN;
  }
}

function isNaNToken(token: string): boolean {
  return token.length === 3 && token.toLowerCase() === 'nan';
}

/** `\\` -> `\`, `\"` -> `"`, `\n` -> newline; an unknown escape is kept as written rather than failing the line. */
function unescape(raw: string, quoteEscapes: boolean): string {
  let out = '';
  let i = 0;
  for (;;) {
    const b = raw.indexOf('\\', i);
    if (b < 0 || b === raw.length - 1) return out + raw.slice(i);
    out += raw.slice(i, b);
    const next = raw.charCodeAt(b + 1);
    if (next === BACKSLASH) out += '\\';
    else if (next === 110) out += '\n';
    else if (next === QUOTE && quoteEscapes) out += '"';
    else out += raw.slice(b, b + 2);
    i = b + 2;
  }
}

function setLabel(labels: Record<string, string>, name: string, value: string): void {
  // A label literally named __proto__ must become an own property, not the object's prototype.
  if (name === '__proto__') Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
  else labels[name] = value;
}

/** Sample names to keep, with what lets most other lines be rejected before a substring is made. */
interface Filter {
  readonly names: ReadonlySet<string>;
  readonly lengths: ReadonlySet<number>;
  /** Family names HELP/TYPE lines are kept for: the names and their unsuffixed forms. */
  readonly families: ReadonlySet<string>;
  readonly familyLengths: ReadonlySet<number>;
}

const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created'];

/** By allow-list: the scraper passes its engine map's same set on every scrape. */
const compiledFilters = new WeakMap<ReadonlySet<string>, Filter>();

function filterFor(names: ReadonlySet<string>): Filter {
  let f = compiledFilters.get(names);
  if (!f) compiledFilters.set(names, (f = compileFilter(names)));
  return f;
}

function compileFilter(names: ReadonlySet<string>): Filter {
  const families = new Set<string>();
  for (const n of names) {
    families.add(n);
    for (const s of SUFFIXES) if (n.endsWith(s)) families.add(n.slice(0, -s.length));
  }
  const lengths = (set: ReadonlySet<string>): Set<number> => new Set([...set].map((n) => n.length));
  return { names, lengths: lengths(names), families, familyLengths: lengths(families) };
}

/** A valid metric name, as the exposition format defines it. */
export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Parses `text`. Never throws: a line that does not parse is skipped and counted, so one bad line from an
 * exporter does not blind the scheduler to the rest. CRLF, blank lines, leading blanks, a BOM, OpenMetrics
 * `# EOF` and exemplars (` # {...}` after the value) are accepted.
 *
 * Speed comes from native string searches (indexOf) rather than char-by-char loops, which cost ~3 ns a
 * char: line ends, name ends and label values are all found with indexOf. With `keep`, a line whose name
 * has no kept length is rejected without a substring, so skipping costs ~30 ns a line.
 */
export function parsePrometheusText(text: string, options: ParseOptions = {}): Exposition {
  const filter = options.keep && filterFor(options.keep);
  const samples = new Map<string, Sample[]>();
  const families = new Map<string, FamilyInfo>();
  const issues: ParseIssue[] = [];
  let invalidLines = 0;
  const len = text.length;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let lineNo = 0;
  // Where the next '{', ' ' and tab are at or after the line start (len when none): searched again only
  // once passed, so a text without braces (or tabs) is not rescanned to its end for every line.
  let nextBrace = -1;
  let nextSpace = -1;
  let nextTab = -1;

  const invalid = (reason: string): void => {
    invalidLines++;
    if (issues.length < MAX_ISSUES) issues.push({ line: lineNo, reason });
  };

  while (pos < len) {
    lineNo++;
    let lineEnd = text.indexOf('\n', pos);
    if (lineEnd < 0) lineEnd = len;
    let end = lineEnd;
    if (end > pos && text.charCodeAt(end - 1) === CR) end--;
    let i = pos;
    let c = text.charCodeAt(i);
    while ((c === SPACE || c === TAB) && i < end) c = text.charCodeAt(++i);
    pos = lineEnd + 1;
    if (i >= end) continue;

    if (c === HASH) {
      readComment(text, i + 1, end, filter, families);
      continue;
    }

    // The metric name ends at the first brace or blank.
    if (nextBrace < i) nextBrace = indexOrEnd(text, '{', i);
    if (nextSpace < i) nextSpace = indexOrEnd(text, ' ', i);
    if (nextTab < i) nextTab = indexOrEnd(text, '\t', i);
    const nameEnd = Math.min(nextBrace, nextSpace, nextTab, end);
    if (filter && !filter.lengths.has(nameEnd - i)) continue;
    const name = text.slice(i, nameEnd);
    if (filter) {
      if (!filter.names.has(name)) continue;
    } else if (!METRIC_NAME.test(name)) {
      invalid(`expected a metric name, got ${JSON.stringify(text.slice(i, Math.min(end, i + 40)))}`);
      continue;
    }
    i = nameEnd;

    // Labels.
    c = text.charCodeAt(i);
    while ((c === SPACE || c === TAB) && i < end) c = text.charCodeAt(++i);
    const labels: Record<string, string> = {};
    const hasLabels = c === OPEN_BRACE && i < end;
    if (hasLabels) {
      const after = readLabels(text, i + 1, end, labels);
      if (typeof after === 'string') {
        invalid(`${name}: ${after}`);
        continue;
      }
      i = after;
    }

    // Value, then an optional timestamp.
    const valueStart = skipBlanks(text, i, end);
    let valueEnd = valueStart;
    while (valueEnd < end && !isBlank(text.charCodeAt(valueEnd))) valueEnd++;
    const token = text.slice(valueStart, valueEnd);
    const value = parseValue(token);
    if (Number.isNaN(value) && !isNaNToken(token)) {
      invalid(`${name}: ${token === '' ? 'missing value' : `value ${JSON.stringify(token)} is not a number`}`);
      continue;
    }
    let timestampMs: number | undefined;
    let rest = skipBlanks(text, valueEnd, end);
    if (rest < end && text.charCodeAt(rest) !== HASH) {
      let tsEnd = rest;
      while (tsEnd < end && !isBlank(text.charCodeAt(tsEnd))) tsEnd++;
      const ts = text.slice(rest, tsEnd);
      if (!/^[+-]?\d+$/.test(ts)) {
        invalid(`${name}: timestamp ${JSON.stringify(ts)} is not an integer`);
        continue;
      }
      timestampMs = Number(ts);
      rest = skipBlanks(text, tsEnd, end);
      // Anything after the timestamp other than an OpenMetrics exemplar is not this format.
      if (rest < end && text.charCodeAt(rest) !== HASH) {
        invalid(`${name}: unexpected ${JSON.stringify(text.slice(rest, Math.min(end, rest + 20)))} after the timestamp`);
        continue;
      }
    }

    const sample: Sample = timestampMs === undefined ? { labels, value } : { labels, value, timestampMs };
    const list = samples.get(name);
    if (list) list.push(sample);
    else samples.set(name, [sample]);
  }
  return { samples, families, invalidLines, issues };
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

function skipBlanks(text: string, i: number, end: number): number {
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  return i;
}

/**
 * Reads `name="value",...}` starting after `{`; returns the index after `}` or why the line is invalid.
 * Values are found with indexOf, not char by char: they are the long part of a vLLM line (model paths,
 * adapter lists with commas), and only a value holding a backslash needs the slow path.
 */
function readLabels(text: string, i: number, end: number, labels: Record<string, string>): number | string {
  for (;;) {
    i = skipBlanks(text, i, end);
    if (i >= end) return 'unterminated label set';
    let c = text.charCodeAt(i);
    if (c === CLOSE_BRACE) return i + 1;
    const nameStart = i;
    if (isDigit(c) || !isNameChar(c, false)) return `expected a label name at ${JSON.stringify(text.slice(i, Math.min(end, i + 20)))}`;
    while (i < end && isNameChar(text.charCodeAt(i), false)) i++;
    const labelName = text.slice(nameStart, i);
    i = skipBlanks(text, i, end);
    if (text.charCodeAt(i) !== EQUALS || i >= end) return `expected = after label ${labelName}`;
    i = skipBlanks(text, i + 1, end);
    if (text.charCodeAt(i) !== QUOTE || i >= end) return `label ${labelName}: value must be quoted`;
    const valueStart = i + 1;
    let close = text.indexOf('"', valueStart);
    if (close < 0 || close >= end) return `label ${labelName}: unterminated value`;
    let value = text.slice(valueStart, close);
    if (value.includes('\\')) {
      // An escaped quote ends no value: find the first quote preceded by an even run of backslashes.
      let j = valueStart;
      for (;;) {
        c = text.charCodeAt(j);
        if (j >= end) return `label ${labelName}: unterminated value`;
        if (c === BACKSLASH) j += 2;
        else if (c === QUOTE) break;
        else j++;
      }
      close = j;
      value = unescape(text.slice(valueStart, close), true);
    }
    if (Object.hasOwn(labels, labelName)) return `duplicate label ${labelName}`;
    setLabel(labels, labelName, value);
    i = skipBlanks(text, close + 1, end);
    c = text.charCodeAt(i);
    if (c === COMMA && i < end) i++;
    else if (c !== CLOSE_BRACE || i >= end) return `expected , or } after label ${labelName}`;
  }
}

/** `# HELP name text` and `# TYPE name type`; any other comment is ignored. */
function readComment(text: string, i: number, end: number, filter: Filter | undefined, families: Map<string, FamilyInfo>): void {
  i = skipBlanks(text, i, end);
  const c = text.charCodeAt(i);
  const isHelp = c === 72 && text.charCodeAt(i + 1) === 69 && text.charCodeAt(i + 2) === 76 && text.charCodeAt(i + 3) === 80;
  const isType = c === 84 && text.charCodeAt(i + 1) === 89 && text.charCodeAt(i + 2) === 80 && text.charCodeAt(i + 3) === 69;
  if (!isHelp && !isType) return;
  i += 4;
  const nameStart = skipBlanks(text, i, end);
  if (nameStart === i || nameStart >= end) return;
  let nameEnd = text.indexOf(' ', nameStart);
  if (nameEnd < 0 || nameEnd > end) nameEnd = end;
  // Most families are not kept: reject them before making a substring.
  if (filter && !filter.familyLengths.has(nameEnd - nameStart)) return;
  let name = text.slice(nameStart, nameEnd);
  const tab = name.indexOf('\t');
  if (tab > 0) {
    name = name.slice(0, tab);
    nameEnd = nameStart + tab;
  }
  if (filter ? !filter.families.has(name) : !METRIC_NAME.test(name)) return;
  const rest = text.slice(skipBlanks(text, nameEnd, end), end);
  let info = families.get(name);
  if (!info) families.set(name, (info = {}));
  if (isHelp) info.help = unescape(rest, false);
  else info.type = rest.trimEnd().toLowerCase();
}

function indexOrEnd(text: string, char: string, from: number): number {
  const i = text.indexOf(char, from);
  return i < 0 ? text.length : i;
}
