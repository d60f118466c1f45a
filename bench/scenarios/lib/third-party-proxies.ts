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
import { startNginxConf } from './nginx-process.js';

const PORTKEY_VERSION = '1.15.2';


/**
 * One worker, keep-alive to the upstream, no buffering (so SSE passes through): a fair single-core peer.
 * `listen` is `host:port` on loopback.
 */
export function startNginx(listen: string, upstream: string): ChildProcess {
  return startNginxConf(`nginx-${listen.replace(/[^0-9]/g, '-')}`, `  upstream pod { server ${upstream}; keepalive 128; keepalive_requests 10000000; }
  server {
    listen ${listen};
    location / {
      proxy_pass http://pod;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
`);
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
