/**
 * Real OTLP trace receivers for tests, on loopback: over HTTP, a node:http server that accepts POST /v1/traces
 * and decodes each request as a collector does (protobuf with the OTLP protos in test/fixtures/otlp-proto, or
 * JSON; gzip when sent so); over gRPC, a grpc-js server of the same protos' TraceService. Both keep the spans,
 * flattened for assertions.
 */
import { Server as GrpcServer, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { loadSync } from '@grpc/proto-loader';

/** OTLP's span kinds, by their enum number (SPAN_KIND_INTERNAL = 1, ...). */
const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: (typeof KINDS)[number];
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, unknown>;
  /** 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
  events: { name: string; timeNs: bigint }[];
  /** The exporting process's resource (service.name, ...). */
  resource: Record<string, unknown>;
  scope: string;
}

export interface OtlpReceiver {
  /** `http://host:port`: the base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  url: string;
  spans: ReceivedSpan[];
  /** Content types of the requests received (what the exporter sent). */
  contentTypes: string[];
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}

interface KeyValue {
  key: string;
  value: AnyValue;
}

/** Ids are hex strings in OTLP JSON and bytes in protobuf. */
type Id = string | Buffer;

interface OtlpSpan {
  traceId: Id;
  spanId: Id;
  parentSpanId?: Id;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: KeyValue[];
  status?: { code?: number; message?: string };
  events?: { name: string; timeUnixNano: string | number }[];
}

interface ExportTraceServiceRequest {
  resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[] }[];
}

function valueOf(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

function hex(id: Id | undefined): string {
  if (id === undefined) return '';
  return typeof id === 'string' ? id : id.toString('hex');
}

function attributesOf(kvs: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((kvs ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

/** Flattens one OTLP JSON export request; throws when it is not one. */
export function decodeTraces(body: ExportTraceServiceRequest): ReceivedSpan[] {
  if (!Array.isArray(body.resourceSpans)) throw new Error('not an ExportTraceServiceRequest: no resourceSpans');
  const out: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans) {
    const resource = attributesOf(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name,
          kind: KINDS[s.kind] ?? 'UNSPECIFIED',
          startNs: BigInt(s.startTimeUnixNano),
          endNs: BigInt(s.endTimeUnixNano),
          attributes: attributesOf(s.attributes),
          status: { code: s.status?.code ?? 0, ...(s.status?.message ? { message: s.status.message } : {}) },
          events: (s.events ?? []).map((e) => ({ name: e.name, timeNs: BigInt(e.timeUnixNano) })),
          resource,
          scope: ss.scope?.name ?? '',
        });
      }
    }
  }
  return out;
}

const PROTOS = fileURLToPath(new URL('../../../test/fixtures/otlp-proto/', import.meta.url));

/** The collector's TraceService, read from its own protos with @grpc/proto-loader. */
let traceService: ServiceDefinition | undefined;

function traceServiceDefinition(): ServiceDefinition {
  // Longs as strings (nanosecond times), enums as numbers, bytes as Buffers (ids), as the JSON form reads.
  traceService ??= loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', { includeDirs: [PROTOS], longs: String, enums: Number, defaults: false, oneofs: false })['opentelemetry.proto.collector.trace.v1.TraceService'] as ServiceDefinition;
  if (!traceService.Export) throw new Error('TraceService.Export not found in the OTLP protos');
  return traceService;
}

/** ExportTraceServiceRequest from protobuf bytes. */
export function decodeProtobufTraces(body: Buffer): ExportTraceServiceRequest {
  return traceServiceDefinition().Export!.requestDeserialize(body) as ExportTraceServiceRequest;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

/** Listens on `host` (a loopback address the test file owns), port 0. */
export async function startOtlpReceiver(host: string): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const type = req.headers['content-type'] ?? '';
      contentTypes.push(type);
      const body = await readAll(req);
      const json = type.startsWith('application/json');
      if (!json && !type.startsWith('application/x-protobuf')) {
        res.writeHead(415, { 'content-type': 'application/json' }).end('{"message":"OTLP/HTTP takes application/x-protobuf or application/json"}');
        return;
      }
      try {
        spans.push(...decodeTraces(json ? (JSON.parse(body.toString('utf8')) as ExportTraceServiceRequest) : decodeProtobufTraces(body)));
      } catch (e) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: (e as Error).message }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    spans,
    contentTypes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface OtlpGrpcReceiver {
  /** `http://host:port`: the collector URL an OTLP/gRPC exporter takes (http: no TLS). */
  url: string;
  spans: ReceivedSpan[];
  /** Export calls received, with the metadata keys each carried (OTEL_EXPORTER_OTLP_HEADERS arrive as these). */
  calls: { metadata: Record<string, string> }[];
  close(): Promise<void>;
}

/** An OTLP/gRPC receiver on `host` (a loopback address the test file owns), port 0, without TLS. */
export async function startOtlpGrpcReceiver(host: string): Promise<OtlpGrpcReceiver> {
  const spans: ReceivedSpan[] = [];
  const calls: OtlpGrpcReceiver['calls'] = [];
  const server = new GrpcServer();
  const implementation: UntypedServiceImplementation = {
    Export: (call: { request: ExportTraceServiceRequest; metadata: { getMap(): Record<string, unknown> } }, callback: (err: Error | null, response?: object) => void) => {
      calls.push({ metadata: Object.fromEntries(Object.entries(call.metadata.getMap()).map(([k, v]) => [k, String(v)])) });
      try {
        spans.push(...decodeTraces(call.request));
      } catch (e) {
        callback(e as Error);
        return;
      }
      // ExportTraceServiceResponse: no partial_success, everything accepted.
      callback(null, {});
    },
  };
  server.addService(traceServiceDefinition(), implementation);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${host}:0`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    url: `http://${host}:${port}`,
    spans,
    calls,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
