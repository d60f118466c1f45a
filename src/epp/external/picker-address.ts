/**
 * Where infergate reaches a pool's external endpoint picker: the ref's Service, by its ClusterIP (Kubernetes, or
 * a Service declared in the configuration files) or else its cluster DNS name, on the ref's port.
 */
import type { ServiceFacts } from '../../api/service.js';

/** GIE's and llm-d's ext_proc port, for a ref that names none (GIE requires `port` for a Service; older pools may lack it). */
export const DEFAULT_EPP_PORT = 9002;

export interface PickerAddress {
  /** The gRPC target, `host:port`: one channel per distinct target (src/epp/external/external-pickers.ts). */
  target: string;
  /** `name.namespace.svc`: the name a verified certificate must carry (`--epp-ca-file`). */
  serviceHost: string;
  /** How the target was found, for logs, status and error messages. */
  via: string;
}

/**
 * `facts` is what the Kubernetes API said of the Service, or the Service declared in the files; undefined when
 * neither knows it (a file without it, or a Service infergate may not read): its DNS name then, which
 * resolves inside the cluster.
 */
export function pickerAddress(namespace: string, name: string, refPort: number | undefined, facts: ServiceFacts | undefined): PickerAddress {
  const serviceHost = `${name}.${namespace}.svc`;
  const only = facts?.ports.length === 1 ? facts.ports[0] : undefined;
  const port = refPort ?? only ?? DEFAULT_EPP_PORT;
  const portVia = refPort !== undefined ? 'port.number' : only !== undefined ? "the Service's only port" : `port ${DEFAULT_EPP_PORT}, GIE's ext_proc default (the ref names no port)`;
  const ip = facts?.clusterIP;
  if (ip !== undefined && ip !== 'None') {
    return { target: `${ip.includes(':') ? `[${ip}]` : ip}:${port}`, serviceHost, via: `Service ${namespace}/${name} at its clusterIP ${ip}, ${portVia}` };
  }
  const why = facts === undefined ? 'its clusterIP is not known here' : 'a headless Service';
  return { target: `${serviceHost}:${port}`, serviceHost, via: `Service ${namespace}/${name} by its DNS name (${why}), ${portVia}` };
}
