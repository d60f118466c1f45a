/** Starts a private nginx for a benchmark: one worker, its own prefix in the temp folder, the `http` block given. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { start } from './processes.js';


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
 * Writes `<tmp>/infergate-bench-<name>/nginx.conf` (one worker, no access log, temp paths under its own folder,
 * keep-alive without a request cap) around `servers`, the upstream and server blocks of its `http` block, and
 * runs nginx in the foreground on it.
 */
export function startNginxConf(name: string, servers: string): ChildProcess {
  const bin = ensureNginx();
  const dir = join(tmpdir(), `infergate-bench-${name}`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${servers}}
`,
  );
  return start(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;']);
}
