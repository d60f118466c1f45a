/**
 * nginx as a plain round-robin L7 balancer over several upstreams (gateway replicas, or pods as a Service would
 * spread them), for scenarios that put a load balancer in front of more than one server.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { start } from './processes.js';
import { ensureNginx } from './third-party-proxies.js';

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
  const bin = ensureNginx();
  const dir = join(tmpdir(), `infergate-bench-nginx-lb-${o.listen.replace(/[^0-9]/g, '-')}`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const servers = o.upstreams.map((u) => `server ${u};`).join(' ');
  const mark = o.markServedEndpoint ? 'add_header x-gateway-destination-endpoint-served $upstream_addr always;' : '';
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 10000000;
  upstream backends { ${servers} keepalive 128; keepalive_requests 10000000; }
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
}
`,
  );
  return start(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;']);
}
