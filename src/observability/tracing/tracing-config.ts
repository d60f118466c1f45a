/**
 * Whether tracing is on, and where spans go: `--otlp-endpoint` or the standard OpenTelemetry variables
 * (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SDK_DISABLED`,
 * `OTEL_TRACES_EXPORTER`). Off unless one of them names an endpoint.
 */
import type { Sampler } from '@opentelemetry/sdk-trace-base';

/** OTLP/HTTP's two encodings; `http/protobuf` is the specification's default (and the cheaper to encode). */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface TracingConfig {
  /** The OTLP/HTTP traces URL spans are POSTed to (`.../v1/traces`). */
  url: string;
  /** `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` or `OTEL_EXPORTER_OTLP_PROTOCOL`; `http/protobuf` when unset. */
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
 * Reads the flag and the environment. `--otlp-endpoint` takes a base URL as `OTEL_EXPORTER_OTLP_ENDPOINT`
 * does (`http://collector:4318`, `/v1/traces` is appended) or the full traces URL; it wins over the
 * variables. Throws when the URL named is not an http(s) URL.
 */
export function tracingSettings(env: NodeJS.ProcessEnv, otlpEndpoint?: string): TracingSettings {
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
    warnings.push(`OTEL_TRACES_EXPORTER=${exporter} is not supported: infergate exports traces over OTLP/HTTP only (set it to otlp or none)`);
  }
  let url: string;
  let source: string;
  let given: string;
  if (otlpEndpoint !== undefined) {
    given = otlpEndpoint;
    url = otlpEndpoint.replace(/\/+$/, '').endsWith(`/${TRACES_PATH}`) ? otlpEndpoint : withTracesPath(otlpEndpoint);
    source = '--otlp-endpoint';
  } else if (exporter === 'none') {
    return { ...(named ? { off: 'OTEL_TRACES_EXPORTER=none' } : {}), warnings };
  } else if (get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined) {
    url = given = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')!;
    source = 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
  } else if (get('OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined) {
    given = get('OTEL_EXPORTER_OTLP_ENDPOINT')!;
    url = withTracesPath(given);
    source = 'OTEL_EXPORTER_OTLP_ENDPOINT';
  } else {
    return { warnings };
  }
  checkUrl(url, given, source);
  const asked = (get('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? get('OTEL_EXPORTER_OTLP_PROTOCOL'))?.toLowerCase();
  let protocol: OtlpProtocol = 'http/protobuf';
  if (asked === 'http/json') protocol = 'http/json';
  else if (asked !== undefined && asked !== 'http/protobuf') {
    warnings.push(
      asked === 'grpc'
        ? `OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported: infergate sends OTLP over HTTP (protobuf) to ${url}; point the endpoint at the collector's OTLP/HTTP port (4318), not its gRPC port (4317)`
        : `OTEL_EXPORTER_OTLP_PROTOCOL=${asked} is not a protocol infergate knows (http/protobuf, http/json): using http/protobuf`,
    );
  }
  return { config: { url, source, protocol }, warnings };
}

function withTracesPath(base: string): string {
  return base.endsWith('/') ? `${base}${TRACES_PATH}` : `${base}/${TRACES_PATH}`;
}

/** Checks the URL spans will go to; the message quotes what the user gave. */
function checkUrl(url: string, given: string, source: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${source}: "${given}" is not a URL; give the collector's OTLP/HTTP endpoint, e.g. http://otel-collector:4318`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`${source}: "${given}" is not an http(s) URL; give the collector's OTLP/HTTP endpoint with its scheme, e.g. http://otel-collector:4318`);
  }
}
