/**
 * Reference proxies for the overhead scenario, set up here and never in the project's dependencies or CI:
 * nginx (Debian package; the C-proxy floor) and Portkey's open-source gateway (npm, installed into a cache
 * directory with @hono/node-server pinned to 1.13.8, without which its streaming breaks).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { start } from './processes.js';

const PORTKEY_VERSION = '1.15.2';

function which(cmd: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Finds nginx, installing Debian's package when missing (root, as on the project's machines). */
export function ensureNginx(): string {
  const found = which('nginx') ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined);
  if (found) return found;
  process.stderr.write('installing nginx from Debian packages (apt-get)...\n');
  execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx'], { stdio: 'inherit' });
  return '/usr/sbin/nginx';
}

/**
 * One worker, keep-alive to the upstream, no buffering (so SSE passes through): a fair single-core peer.
 * `listen` is `host:port` on loopback.
 */
export function startNginx(listen: string, upstream: string): ChildProcess {
  const bin = ensureNginx();
  const dir = join(tmpdir(), `infergate-bench-nginx-${listen.replace(/[^0-9]/g, '-')}`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
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
  upstream pod { server ${upstream}; keepalive 128; keepalive_requests 10000000; }
  server {
    listen ${listen};
    location / {
      proxy_pass http://pod;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`,
  );
  return start(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;']);
}

/** Installs Portkey's gateway once into a cache directory and returns its start script. */
function ensurePortkey(): string {
  const dir = join(tmpdir(), `infergate-bench-portkey-${PORTKEY_VERSION}`);
  const script = join(dir, 'node_modules/@portkey-ai/gateway/build/start-server.js');
  if (existsSync(script)) return script;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'portkey-bench', private: true, dependencies: { '@portkey-ai/gateway': PORTKEY_VERSION, '@hono/node-server': '1.13.8' }, overrides: { '@hono/node-server': '1.13.8' } }, null, 2),
  );
  process.stderr.write(`installing @portkey-ai/gateway@${PORTKEY_VERSION} into ${dir} (npm)...\n`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
  return script;
}

/** Portkey refuses private custom hosts unless they are listed in TRUSTED_CUSTOM_HOSTS. */
export function startPortkey(listenPort: number, upstreamHost: string): ChildProcess {
  const script = ensurePortkey();
  return start(process.execPath, [script, `--port=${listenPort}`, '--headless'], { TRUSTED_CUSTOM_HOSTS: upstreamHost, NODE_ENV: 'production' });
}

/** The headers that make Portkey forward an OpenAI request to a self-hosted vLLM. */
export function portkeyHeaders(upstream: string): Record<string, string> {
  return { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `http://${upstream}/v1` };
}
