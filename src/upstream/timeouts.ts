/** How long the gateway waits on an endpoint, per stage of a request: connect, response headers, body gaps, the whole. */
import type { SettingSpec } from './setting.js';

/**
 * A pool's upstream timeouts, in ms. Invariant: `connectMs` > 0; any other 0 turns that limit off. The two
 * header timeouts differ because vLLM sends a streamed response's headers as soon as it accepts the request
 * (before it queues it), while a non-streamed response's headers come with the whole answer.
 */
export interface UpstreamTimeouts {
  /** TCP connect to the endpoint. */
  connectMs: number;
  /** Request sent -> response headers, for a body with `"stream": true`. */
  streamHeadersMs: number;
  /** Request sent -> response headers, for every other request. */
  responseHeadersMs: number;
  /** The longest gap between two chunks of a response body (for a stream: headers to first token too). */
  streamIdleMs: number;
  /** The whole request, every attempt included, until its last byte (Envoy's route `timeout`); 0 = off. */
  upstreamMs: number;
}

export const DEFAULT_UPSTREAM_TIMEOUTS: Readonly<UpstreamTimeouts> = {
  connectMs: 2000,
  streamHeadersMs: 10_000,
  responseHeadersMs: 600_000,
  // Envoy's stream_idle_timeout: a queued stream gets no token until it leaves vLLM's waiting queue.
  streamIdleMs: 300_000,
  upstreamMs: 0,
};

/** Each timeout's flag (`--NAME`) and annotation (`infergate.io/NAME`). */
export const TIMEOUT_SETTINGS: readonly SettingSpec<keyof UpstreamTimeouts>[] = [
  { key: 'connectMs', name: 'connect-timeout', kind: 'duration', min: 1, help: 'upstream TCP connect timeout' },
  {
    key: 'streamHeadersMs',
    name: 'stream-headers-timeout',
    kind: 'duration',
    min: 0,
    help: 'wait this long for the response headers of a streamed request ("stream": true; vLLM sends them as soon as it accepts the request), then try another endpoint',
  },
  {
    key: 'responseHeadersMs',
    name: 'response-headers-timeout',
    kind: 'duration',
    min: 0,
    help: 'wait this long for the response headers of a non-streamed request (they come with the whole answer), then try another endpoint',
  },
  { key: 'streamIdleMs', name: 'stream-idle-timeout', kind: 'duration', min: 0, help: 'cut a response whose body sends nothing for this long (a stream waiting for its first token included)' },
  { key: 'upstreamMs', name: 'upstream-timeout', kind: 'duration', min: 0, help: 'limit on the whole request, every attempt included, until its last byte; 0 = none' },
];

/** The header timeout of one request: short for a stream, long for a whole answer. */
export function headersTimeoutMs(t: UpstreamTimeouts, streamed: boolean): number {
  return streamed ? t.streamHeadersMs : t.responseHeadersMs;
}
