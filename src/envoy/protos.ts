/**
 * Loads the ext_proc and gRPC health protos at run time: infergate's own declarations under proto/ (found
 * from the compiled file, so no copy step is needed) plus the Envoy API protos bundled with
 * @grpc/grpc-js-xds for the common types.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type GrpcObject, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';

export const EXT_PROC_SERVICE_NAME = 'envoy.service.ext_proc.v3.ExternalProcessor';
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/**
 * `proto/` at the repository root. From dist/src/envoy/protos.js that is three levels up, and from
 * src/envoy/protos.ts (when run by a TypeScript loader) two: try both.
 */
function protoDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '../../../proto'), join(here, '../../proto')];
  const found = candidates.find((d) => existsSync(join(d, 'envoy/service/ext_proc/v3/external_processor.proto')));
  if (!found) throw new Error(`infergate's ext_proc protos were not found (looked in ${candidates.join(', ')})`);
  return found;
}

function includeDirs(): string[] {
  const xds = dirname(createRequire(import.meta.url).resolve('@grpc/grpc-js-xds/package.json'));
  // Ours first: its ext_proc files shadow grpc-js-xds's older copies of the same paths.
  return [protoDir(), ...['envoy-api', 'xds', 'protoc-gen-validate', 'googleapis'].map((d) => join(xds, 'deps', d))];
}

let cached: PackageDefinition | undefined;

/**
 * Field names as in the .proto (`end_of_stream`), except google.protobuf.Struct's Value fields, which
 * protobufjs defines in camelCase (`stringValue`, `listValue`) whatever keepCase says. Enums as names,
 * bytes as Buffers, absent fields absent (no defaults), and each oneof's chosen field named in a virtual
 * property (`request`, `response`, `mutation`, `kind`).
 */
export function extProcPackageDefinition(): PackageDefinition {
  cached ??= loadSync(['envoy/service/ext_proc/v3/external_processor.proto', 'grpc/health/v1/health.proto'], {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
    includeDirs: includeDirs(),
  });
  return cached;
}

function service(name: string): ServiceDefinition {
  const def = extProcPackageDefinition()[name];
  if (!def || !('Process' in def || 'Check' in def)) throw new Error(`service ${name} missing from the loaded protos`);
  return def as unknown as ServiceDefinition;
}

export function extProcServiceDefinition(): ServiceDefinition {
  return service(EXT_PROC_SERVICE_NAME);
}

export function healthServiceDefinition(): ServiceDefinition {
  return service(HEALTH_SERVICE_NAME);
}

/** The loaded packages as grpc-js objects, for building clients (tests, the benchmark). */
export function extProcGrpcObject(): GrpcObject {
  return loadPackageDefinition(extProcPackageDefinition());
}
