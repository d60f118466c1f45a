/**
 * With `--cert-file` the traffic port, where /healthz and /readyz are, speaks HTTPS. The standalone-gateway
 * overlay's probes, patched as docs/configuration.md "TLS on the traffic port" says, must pass as the kubelet
 * runs them (HTTPS without verifying the certificate, any status from 200 to 399 a success); as the overlay has
 * them (plain HTTP) they get a 400, which would keep the pod unready and have it restarted. Loopback 127.0.179.x.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { selfSignedCertificate } from '../../src/extproc/self-signed-certificate.js';
import { startCli } from '../helpers/cli-process.js';
import { baseModelRouteYaml, podYaml, poolYaml, tempConfig } from '../helpers/fleet.js';
import { repoRoot } from '../helpers/local-kube.js';

const HOST = '127.0.179.10';
const PORT = 8080;

interface HttpGet {
  path: string;
  port: string | number;
  scheme?: 'HTTP' | 'HTTPS';
}
type Probes = Record<'livenessProbe' | 'readinessProbe', { httpGet: HttpGet }>;

/** The standalone-gateway overlay's container, as `kubectl kustomize` renders it. */
function overlayContainer(): Promise<Probes & { ports: { name: string; containerPort: number }[] }> {
  const dir = join(repoRoot(), 'deploy', 'kustomize', 'overlays', 'standalone-gateway');
  return new Promise((resolve, reject) => {
    execFile('kubectl', ['kustomize', dir], { timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`kubectl kustomize ${dir} failed (kubectl is needed): ${err.message}\n${stderr}`));
      const deployment = parseAllDocuments(stdout).map((d) => d.toJS() as { kind: string; spec: { template: { spec: { containers: unknown[] } } } }).find((o) => o?.kind === 'Deployment');
      resolve(deployment!.spec.template.spec.containers[0] as Probes & { ports: { name: string; containerPort: number }[] });
    });
  });
}

/** The probes the TLS section's example sets (`{}` when it sets none). */
function docProbes(): Partial<Probes> {
  const doc = readFileSync(join(repoRoot(), 'docs', 'configuration.md'), 'utf8');
  const section = /\n## TLS on the traffic port\n([\s\S]*?)\n## /.exec(doc)?.[1] ?? '';
  const block = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('--cert-file'));
  assert.ok(block, 'the TLS section has a YAML example with --cert-file');
  return parse(block) as Partial<Probes>;
}

/** A probe as the kubelet runs it: the scheme given (HTTP by default), no certificate check; the status, or 0 when the request failed. */
function probe(get: HttpGet, port: number): Promise<number> {
  const request = get.scheme === 'HTTPS' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request({ host: HOST, port, path: get.path, rejectUnauthorized: false, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

const ok = (status: number): boolean => status >= 200 && status < 400;

test("with --cert-file, the overlay's probes patched as the TLS docs say pass as the kubelet runs them", { timeout: 60_000 }, async () => {
  const container = await overlayContainer();
  const patch = docProbes();
  const cert = selfSignedCertificate({ commonName: 'infergate-test', altNames: [HOST] });
  const cfg = await tempConfig({
    'all.yaml': [podYaml('gemma-0', '127.0.179.11', { app: 'gemma' }), poolYaml('gemma', { app: 'gemma' }, 8000), baseModelRouteYaml('gemma', 'google/gemma-2b-it', [['gemma', 1]])].join('---\n'),
  });
  // Beside the config, not in it: the file source reads every .yaml there.
  const tls = await tempConfig({ 'tls.crt': cert.cert, 'tls.key': cert.key });
  const port = container.ports.find((p) => p.name === 'http')?.containerPort;
  assert.equal(port, PORT, "the overlay's probes name port http, 8080");
  const cli = await startCli(['serve', '-f', cfg.dir, `--host=${HOST}`, `--port=${PORT}`, '--admin-port=0', `--cert-file=${join(tls.dir, 'tls.crt')}`, `--key-file=${join(tls.dir, 'tls.key')}`], /listening on https:/, 20_000);
  try {
    for (const name of ['livenessProbe', 'readinessProbe'] as const) {
      const asRendered = container[name].httpGet;
      assert.equal(asRendered.port, 'http');
      // Plain HTTP to the TLS port: the 400 that would fail the pod's probes.
      assert.equal(ok(await probe(asRendered, PORT)), asRendered.scheme === 'HTTPS', `${name} as the overlay renders it (${asRendered.scheme ?? 'HTTP'})`);
      const patched = { ...asRendered, ...(patch[name]?.httpGet ?? {}) };
      assert.equal(patched.path, asRendered.path, `${name}: the docs' probe asks the overlay's path`);
      const status = await probe(patched, PORT);
      assert.ok(ok(status), `${name} patched as docs/configuration.md says (${JSON.stringify(patch[name] ?? null)}) must pass: got ${status}`);
    }
  } finally {
    cli.kill('SIGTERM');
    await cli.line(/SIGTERM received/, 5000).catch(() => undefined);
    cli.kill('SIGTERM');
    await cli.exited;
    await cfg.remove();
    await tls.remove();
  }
});
