/**
 * nginx as a plain round-robin L7 balancer over several upstreams (gateway replicas, or pods as a Service would
 * spread them), for scenarios that put a load balancer in front of more than one server.
 */
import type { ChildProcess } from 'node:child_process';
import { startNginxConf } from './nginx-process.js';

export interface NginxBalancerOptions {
  /** `host:port` on loopback. */
  listen: string;
  /** `host:port` of each upstream server, taken in turn (nginx's default round-robin). */
  upstreams: readonly string[];
  /**
   * Adds `x-gateway-destination-endpoint-served: <the upstream's address>` to responses: set it when the
   * upstreams are the pods themselves, so the benchmark counts requests per pod as it does behind a gateway
   * (which sets the header itself; nginx passes it through).
   */
  markServedEndpoint?: boolean;
}

/** One worker, keep-alive to the upstreams, no buffering (so SSE passes through); resolves to the process. */
export function startNginxBalancer(o: NginxBalancerOptions): ChildProcess {
  const servers = o.upstreams.map((u) => `server ${u};`).join(' ');
  const mark = o.markServedEndpoint ? 'add_header x-gateway-destination-endpoint-served $upstream_addr always;' : '';
  return startNginxConf(`nginx-lb-${o.listen.replace(/[^0-9]/g, '-')}`, `  upstream backends { ${servers} keepalive 128; keepalive_requests 10000000; }
  server {
    listen ${o.listen};
    client_max_body_size 16m;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 300s;
      ${mark}
    }
  }
`);
}
