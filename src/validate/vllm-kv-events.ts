/**
 * Whether a model-server container publishes vLLM KV events, read from its command line: `--kv-events-config`
 * as JSON (`--kv-events-config '{"enable_kv_cache_events":true,...}'` or `=JSON`) or as vLLM's dotted fields
 * (`--kv-events-config.endpoint tcp://*:5556`), with vLLM's defaults (vllm/config/kv_events.py).
 */
import { commandLines, servedByArgv } from './vllm-command-line.js';

/** What the container's vLLM publishes, as vLLM would read its flag. */
export interface KvEventsPublisher {
  /** `enable_kv_cache_events` and a `zmq` publisher: false when the flag is absent (vLLM's default). */
  publishes: boolean;
  /** Why it publishes nothing, for the message: `no --kv-events-config`, `enable_kv_cache_events is false`. */
  why?: string;
  /** `endpoint` (default `tcp://*:5557`). */
  endpoint: string;
  /** `topic` (default ""). */
  topic: string;
}

const FLAG = '--kv-events-config';
const DEFAULT_ENDPOINT = 'tcp://*:5557';

/**
 * For the first container that runs a model server; undefined when none does, or when its flag cannot be read
 * (vLLM would not start with it, and nothing is said of what it would publish).
 */
export function kvEventsPublisher(containers: unknown): KvEventsPublisher | undefined {
  const argv = commandLines(containers).find((a) => servedByArgv(a) !== undefined);
  if (!argv) return undefined;
  let fields: Record<string, unknown> | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = (): string | undefined => inline ?? (i + 1 < argv.length ? argv[++i] : undefined);
    if (flag === FLAG) {
      const json = readJson(value());
      if (json === undefined) return undefined;
      fields = { ...fields, ...json };
    } else if (flag.startsWith(`${FLAG}.`)) {
      const v = value();
      fields = { ...fields, [flag.slice(FLAG.length + 1).replaceAll('-', '_')]: v === 'true' ? true : v === 'false' ? false : v };
    }
  }
  const endpoint = typeof fields?.endpoint === 'string' ? fields.endpoint : DEFAULT_ENDPOINT;
  const topic = typeof fields?.topic === 'string' ? fields.topic : '';
  if (!fields) return { publishes: false, why: `no ${FLAG}`, endpoint, topic };
  if (fields.enable_kv_cache_events !== true) return { publishes: false, why: `${FLAG} has enable_kv_cache_events ${fields.enable_kv_cache_events === undefined ? 'unset (false)' : JSON.stringify(fields.enable_kv_cache_events)}`, endpoint, topic };
  if (fields.publisher !== undefined && fields.publisher !== 'zmq') return { publishes: false, why: `${FLAG} has publisher ${JSON.stringify(fields.publisher)}`, endpoint, topic };
  return { publishes: true, endpoint, topic };
}

/** The flag's JSON object; also as a shell script carries it (`"{\"enable_kv_cache_events\":true}"`). */
function readJson(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  for (const candidate of [text, text.replace(/^(['"])(.*)\1$/s, '$2').replaceAll('\\"', '"')]) {
    try {
      const v: unknown = JSON.parse(candidate);
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // not JSON in this form; try the next
    }
  }
  return undefined;
}

/** The port a publisher binds (`tcp://*:5556`, `tcp://0.0.0.0:5556`); undefined when it connects to a host instead. */
export function boundPort(endpoint: string): number | undefined {
  const m = /^tcp:\/\/(\*|0\.0\.0\.0|\[?::\]?):(\d+)$/.exec(endpoint);
  return m ? Number(m[2]) : undefined;
}
