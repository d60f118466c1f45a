/**
 * grpc.health.v1.Health for the ext_proc servers: "" and `liveness` while the process runs; `readiness` and
 * `envoy.service.ext_proc.v3.ExternalProcessor` once a configuration is in force and the processors
 * listen, and no longer while shutting down. Kubernetes gRPC probes and Envoy's health checks ask these.
 * Any other name is answered as `readiness`, as GIE's and llm-d's EPP answer every name (their charts and
 * guides probe `service: inference-extension`; gateway-api-inference-extension PR #788).
 */
import { type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { EXT_PROC_SERVICE_NAME } from '../envoy/protos.js';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

interface HealthCheckRequest {
  service?: string;
}

interface HealthCheckResponse {
  status: ServingStatus;
}

export const HEALTH_SERVICES = ['', 'liveness', 'readiness', EXT_PROC_SERVICE_NAME] as const;

export class HealthStatus {
  readonly #status = new Map<string, ServingStatus>([
    ['', 'SERVING'],
    ['liveness', 'SERVING'],
    ['readiness', 'NOT_SERVING'],
    [EXT_PROC_SERVICE_NAME, 'NOT_SERVING'],
  ]);
  readonly #watchers = new Set<(service: string, s: ServingStatus) => void>();
  #shuttingDown = false;

  /** Readiness and the ext_proc service together: both mean "send me requests". Never SERVING again once shutting down. */
  setReady(ready: boolean): void {
    const s = ready && !this.#shuttingDown ? 'SERVING' : 'NOT_SERVING';
    this.#set('readiness', s);
    this.#set(EXT_PROC_SERVICE_NAME, s);
  }

  /**
   * The first phase of a graceful shutdown: readiness and the ext_proc service are NOT_SERVING for good (a first
   * Kubernetes sync that completes later does not bring them back); liveness stays SERVING through the drain.
   */
  shutDown(): void {
    this.#shuttingDown = true;
    this.setReady(false);
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** The status of `service`; a name not in HEALTH_SERVICES is answered as `readiness`. */
  get(service: string): ServingStatus {
    return this.#status.get(service) ?? this.#status.get('readiness')!;
  }

  #set(service: string, s: ServingStatus): void {
    if (this.#status.get(service) === s) return;
    this.#status.set(service, s);
    for (const w of this.#watchers) w(service, s);
  }

  /** Check and Watch, as the grpc-js implementation of grpc.health.v1.Health. */
  implementation(): UntypedServiceImplementation {
    return {
      Check: (call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>) => {
        callback(null, { status: this.get(call.request.service ?? '') });
      },
      Watch: (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        const requested = call.request.service ?? '';
        const service = this.#status.has(requested) ? requested : 'readiness';
        call.write({ status: this.get(service) });
        const watcher = (changed: string, s: ServingStatus): void => {
          if (changed === service) call.write({ status: s });
        };
        this.#watchers.add(watcher);
        call.on('cancelled', () => this.#watchers.delete(watcher));
        call.on('close', () => this.#watchers.delete(watcher));
      },
    };
  }
}
