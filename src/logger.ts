/**
 * A small leveled logger writing one line per event to stderr (or any sink): as text, `key=value` fields
 * appended, or as one JSON object per line (`--log-format json`) for log pipelines (Loki, Elasticsearch,
 * Cloud Logging) that parse fields rather than text.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** `text`: `TIME LEVEL message key=value ...`; `json`: `{"time":...,"level":...,"msg":...,"key":value,...}`. */
export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel = 'info', sink: (line: string) => void = (l) => process.stderr.write(l + '\n'), format: LogFormat = 'text'): Logger {
  const min = ORDER[level];
  const line = format === 'json' ? jsonLine : textLine;
  const log = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < min) return;
    sink(line(new Date().toISOString(), lvl, msg, fields));
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}

/**
 * A fatal line before the process exits (a command that could not start), whatever the level, since
 * `--log-level silent` must not hide why a process stopped: as given in text (the CLI's `error: ...`), a JSON
 * line at level `error` in json (its `error: ` prefix dropped, as the level says it).
 */
export function fatalLine(format: LogFormat, msg: string): string {
  return format === 'json' ? jsonLine(new Date().toISOString(), 'error', msg.replace(/^error: /, ''), undefined) : msg;
}

function textLine(time: string, lvl: LogLevel, msg: string, fields: Record<string, unknown> | undefined): string {
  let line = `${time} ${lvl.toUpperCase().padEnd(5)} ${msg}`;
  if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${typeof v === 'string' && !/\s/.test(v) ? v : encode(v)}`;
  return line;
}

/** The line's own keys come first; a field of the same name is kept as `field_<name>` rather than lost. */
const OWN_KEYS = new Set(['time', 'level', 'msg']);

function jsonLine(time: string, lvl: LogLevel, msg: string, fields: Record<string, unknown> | undefined): string {
  let line = `{"time":"${time}","level":"${lvl}","msg":${JSON.stringify(msg)}`;
  if (fields) {
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      line += `,${JSON.stringify(OWN_KEYS.has(k) ? `field_${k}` : k)}:${encode(v)}`;
    }
  }
  return `${line}}`;
}

/** JSON of a field's value; one JSON cannot hold (a BigInt, a cycle) is written as its string, as JSON. */
function encode(v: unknown): string {
  try {
    return JSON.stringify(v) ?? JSON.stringify(String(v));
  } catch {
    return JSON.stringify(String(v));
  }
}

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
