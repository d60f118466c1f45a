/**
 * Whether tracing is on, where spans go and how: `--otlp-endpoint`, `--otlp-protocol` or the standard
 * OpenTelemetry variables (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`, `OTEL_SDK_DISABLED`, `OTEL_TRACES_EXPORTER`). Off unless one of them
 * names an endpoint.
 */
import type { Sampler } from '@opentelemetry/sdk-trace-base';

/**
 * OTLP's transports, as `OTEL_EXPORTER_OTLP_PROTOCOL` names them: HTTP with protobuf (the specification's default
 * for this SDK, and the cheaper to encode) or JSON, or gRPC (a collector's port 4317).
 */
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

export const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];

export interface TracingConfig {
  /**
   * Over HTTP, the traces URL spans are POSTed to (`.../v1/traces`); over gRPC, the collector's URL as given
   * (`http://collector:4317`: `http` is a plain connection, `https` TLS).
   */
  url: string;
  /** `--otlp-protocol`, else `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` or `OTEL_EXPORTER_OTLP_PROTOCOL`; `http/protobuf` when unset. */
  protocol?: OtlpProtocol;
  /** What named it (`--otlp-endpoint` or the variable), for the startup log. */
  source: string;
  /** Replaces the sampler `OTEL_TRACES_SAMPLER`/`OTEL_TRACES_SAMPLER_ARG` choose (tests). */
  sampler?: Sampler;
  /** How long spans wait in the batch before export (ms); `OTEL_BSP_SCHEDULE_DELAY` or 5000 when unset. */
  scheduleDelayMs?: number;
}

export interface TracingSettings {
  /** Set when tracing is on. */
  config?: TracingConfig;
  /** Why it is off although something asked for it (`OTEL_SDK_DISABLED=true` beside `--otlp-endpoint`). */
  off?: string;
  /** Settings read but not honoured, each saying what to do instead. */
  warnings: string[];
}

/** OTLP/HTTP's path for traces, which `OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL) does not include. */
const TRACES_PATH = 'v1/traces';

/**
 * Reads the flags and the environment. `--otlp-endpoint` takes a base URL as `OTEL_EXPORTER_OTLP_ENDPOINT`
 * does (`http://collector:4318`, `/v1/traces` appended over HTTP) or the full traces URL; it wins over the
 * variables, and `--otlp-protocol` over theirs. Over gRPC the endpoint is used as given, with no path added, as
 * the specification says. Throws when the URL named is not an http(s) URL, or the flag's protocol is unknown.
 */
export function tracingSettings(env: NodeJS.ProcessEnv, otlpEndpoint?: string, otlpProtocol?: string): TracingSettings {
  const warnings: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const disabled = get('OTEL_SDK_DISABLED')?.toLowerCase() === 'true';
  const exporter = get('OTEL_TRACES_EXPORTER')?.toLowerCase();
  const named = otlpEndpoint !== undefined || get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined || get('OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined;
  // The specification's kill switch: it wins over everything, the flag included.
  if (disabled) return { ...(named ? { off: 'OTEL_SDK_DISABLED=true' } : {}), warnings };
  if (exporter !== undefined && exporter !== 'otlp' && exporter !== 'none') {
    warnings.push(`OTEL_TRACES_EXPORTER=${exporter} is not supported: infergate exports traces over OTLP only (set it to otlp or none)`);
  }
  const protocol = protocolOf(otlpProtocol, get('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? get('OTEL_EXPORTER_OTLP_PROTOCOL'), warnings);
  checkSampler(get('OTEL_TRACES_SAMPLER'), get('OTEL_TRACES_SAMPLER_ARG'), warnings);
  const grpc = protocol === 'grpc';
  let url: string;
  let source: string;
  let given: string;
  if (otlpEndpoint !== undefined) {
    given = otlpEndpoint;
    url = grpc || otlpEndpoint.replace(/\/+$/, '').endsWith(`/${TRACES_PATH}`) ? otlpEndpoint : withTracesPath(otlpEndpoint);
    source = '--otlp-endpoint';
  } else if (exporter === 'none') {
    return { ...(named ? { off: 'OTEL_TRACES_EXPORTER=none' } : {}), warnings };
  } else if (get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined) {
    url = given = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')!;
    source = 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
  } else if (get('OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined) {
    given = get('OTEL_EXPORTER_OTLP_ENDPOINT')!;
    url = grpc ? given : withTracesPath(given);
    source = 'OTEL_EXPORTER_OTLP_ENDPOINT';
  } else {
    return { warnings };
  }
  checkUrl(url, given, source, protocol);
  checkResourceAttributes(get('OTEL_RESOURCE_ATTRIBUTES'), warnings);
  if (grpc && new URL(url).port === '4318') warnings.push(`${source} names port 4318, a collector's OTLP/HTTP port, with the grpc protocol: a collector takes OTLP/gRPC on 4317`);
  else if (!grpc && new URL(url).port === '4317') warnings.push(`${source} names port 4317, a collector's OTLP/gRPC port, with the ${protocol} protocol: set OTEL_EXPORTER_OTLP_PROTOCOL=grpc (or --otlp-protocol grpc), or use its OTLP/HTTP port 4318`);
  return { config: { url, source, protocol }, warnings };
}

/** The samplers OTEL_TRACES_SAMPLER may name, as the OpenTelemetry JS SDK reads them. */
export const TRACES_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export const DEFAULT_TRACES_SAMPLER = 'parentbased_always_on';

/**
 * The SDK takes an unknown sampler (or a ratio that is no number in [0, 1]) for its default and says so only
 * through its own diagnostics, which infergate does not print: warn in the gateway's log instead.
 */
function checkSampler(sampler: string | undefined, arg: string | undefined, warnings: string[]): void {
  if (sampler !== undefined && !(TRACES_SAMPLERS as readonly string[]).includes(sampler)) {
    warnings.push(`OTEL_TRACES_SAMPLER=${sampler} is not a sampler (${TRACES_SAMPLERS.join(', ')}): ${DEFAULT_TRACES_SAMPLER} is used, every request sampled unless its client's traceparent says otherwise`);
    return;
  }
  if (sampler === undefined || !sampler.endsWith('traceidratio') || arg === undefined) return;
  const ratio = Number(arg);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) warnings.push(`OTEL_TRACES_SAMPLER_ARG=${arg} is not a ratio from 0 to 1: ${sampler} samples every trace (a ratio of 1)`);
}

/**
 * The SDK drops the whole of OTEL_RESOURCE_ATTRIBUTES when one entry is malformed, as the specification asks, and
 * says so only in its diagnostics: the spans then lack every attribute it sets (k8s.pod.name, ...). Warn, naming the entry.
 */
function checkResourceAttributes(raw: string | undefined, warnings: string[]): void {
  if (raw === undefined) return;
  for (const entry of raw.split(',')) {
    if (entry.trim() === '') continue;
    const parts = entry.split('=');
    let why: string | undefined;
    if (parts.length !== 2) why = 'is not one key=value';
    else if (parts[0]!.trim() === '') why = 'has no key';
    else {
      try {
        decodeURIComponent(parts[0]!);
        decodeURIComponent(parts[1]!);
      } catch {
        why = 'is not percent-encoded correctly';
      }
    }
    if (why !== undefined) {
      warnings.push(`OTEL_RESOURCE_ATTRIBUTES is ignored whole: its entry "${entry}" ${why} (percent-encode ",", "=" and "%" in keys and values: %2C, %3D, %25), so none of its attributes are exported`);
      return;
    }
  }
}

/** The flag's protocol (an unknown one throws), else the variable's (an unknown one is warned about), else http/protobuf. */
function protocolOf(flag: string | undefined, variable: string | undefined, warnings: string[]): OtlpProtocol {
  if (flag !== undefined) {
    const p = flag.trim().toLowerCase();
    if (!(OTLP_PROTOCOLS as readonly string[]).includes(p)) throw new Error(`--otlp-protocol: "${flag}" is not one of ${OTLP_PROTOCOLS.join(', ')}`);
    return p as OtlpProtocol;
  }
  if (variable === undefined) return 'http/protobuf';
  const p = variable.toLowerCase();
  if ((OTLP_PROTOCOLS as readonly string[]).includes(p)) return p as OtlpProtocol;
  warnings.push(`OTEL_EXPORTER_OTLP_PROTOCOL=${variable} is not a protocol infergate knows (${OTLP_PROTOCOLS.join(', ')}): using http/protobuf`);
  return 'http/protobuf';
}

/**
 * `url` as the log shows it: credentials in it (`https://tenant:token@collector/`, which the OTLP/HTTP exporter
 * sends as basic auth) are masked, so the startup line and export warnings do not put them in the log.
 */
export function shownUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '***';
  parsed.password = '';
  return parsed.toString();
}

function withTracesPath(base: string): string {
  return base.endsWith('/') ? `${base}${TRACES_PATH}` : `${base}/${TRACES_PATH}`;
}

/** Checks the URL spans will go to; the message quotes what the user gave. */
function checkUrl(url: string, given: string, source: string, protocol: OtlpProtocol): void {
  const [kind, port] = protocol === 'grpc' ? ['OTLP/gRPC', 4317] : ['OTLP/HTTP', 4318];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${source}: "${given}" is not a URL; give the collector's ${kind} endpoint, e.g. http://otel-collector:${port}`);
  }
  // gRPC too: the scheme chooses TLS (https) or a plain connection (http), where a bare host:port would leave it to guess.
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`${source}: "${shownUrl(given)}" is not an http(s) URL; give the collector's ${kind} endpoint with its scheme, e.g. http://otel-collector:${port}`);
  }
}
