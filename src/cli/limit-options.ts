/** The request limits' flags: JSON body bounds (`serve`, `extproc`), client connection limits and body memory (`serve`). */
import { Option, type Command } from 'commander';
import { DEFAULT_JSON_LIMITS, MAX_JSON_DEPTH_FLAG, type JsonLimits } from '../bbr/json-limits.js';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from '../proxy/connection-limits.js';
import { formatDuration } from '../upstream/duration.js';
import { durationFlag, intFlag } from './parse-flags.js';
import { SMALL_BODY_BYTES } from '../proxy/body-budget.js';
import { DEFAULT_BODY_MEMORY_BYTES } from '../proxy/gateway.js';

export interface JsonLimitFlags {
  maxJsonDepth: number;
  maxJsonValues: number;
}

export interface ConnectionFlags {
  maxBodyMemory: number;
  requestHeadersTimeout: number;
  requestBodyTimeout: number;
  keepAliveTimeout: number;
  maxConnections: number;
  maxConnectionsPerClient: number;
}

export function addJsonLimitOptions(cmd: Command): Command {
  const d = DEFAULT_JSON_LIMITS;
  return cmd
    .option('--max-json-depth <n>', `deepest nesting of arrays and objects in a request body; deeper gets 400 invalid_json`, intFlag(1, MAX_JSON_DEPTH_FLAG), d.maxDepth)
    .option('--max-json-values <n>', `most JSON values (strings, numbers, literals, arrays, objects, object keys) in a request body; more gets 400 invalid_json`, intFlag(1), d.maxValues);
}

export function jsonLimitsOf(flags: JsonLimitFlags): JsonLimits {
  return { maxDepth: flags.maxJsonDepth, maxValues: flags.maxJsonValues };
}

export function addConnectionOptions(cmd: Command): Command {
  const d = DEFAULT_CONNECTION_LIMITS;
  const duration = (flag: string, help: string, min: number, value: number): Option => new Option(`${flag} <duration>`, help).argParser(durationFlag(min)).default(value, formatDuration(value));
  return cmd
    .addOption(duration('--request-headers-timeout', "time a client has to send a request's line and headers, then 408 request_timeout; 0 = none", 0, d.requestHeadersTimeoutMs))
    .addOption(duration('--request-body-timeout', 'time a client has to send a whole request, body included, then 408 request_timeout; never cuts a response; 0 = none', 0, d.requestBodyTimeoutMs))
    .addOption(duration('--keep-alive-timeout', 'how long an idle client connection is kept open', 1, d.keepAliveTimeoutMs))
    .option('--max-connections <n>', 'client connections open at once; one more gets 503 too_many_connections; the default is half the open-file limit less 128, at most 10000', intFlag(1), d.maxConnections)
    .option('--max-connections-per-client <n>', 'client connections open at once from one address; one more gets 503 too_many_connections; 0 = no limit', intFlag(0), d.maxConnectionsPerClient)
    .option('--max-body-memory <bytes>', 'memory all request bodies held at once may take, raw bytes and parsed JSON (estimated); past it a body waits, unread, until others finish (the oldest always proceeds)', intFlag(SMALL_BODY_BYTES), DEFAULT_BODY_MEMORY_BYTES);
}

export function bodyMemoryOf(flags: ConnectionFlags): number {
  return flags.maxBodyMemory;
}

export function connectionLimitsOf(flags: ConnectionFlags): ConnectionLimits {
  return {
    requestHeadersTimeoutMs: flags.requestHeadersTimeout,
    requestBodyTimeoutMs: flags.requestBodyTimeout,
    keepAliveTimeoutMs: flags.keepAliveTimeout,
    maxConnections: flags.maxConnections,
    maxConnectionsPerClient: flags.maxConnectionsPerClient,
  };
}
