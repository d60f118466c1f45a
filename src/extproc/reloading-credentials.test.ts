/** --cert-file/--key-file on the ext_proc ports: a renewal written over the files reaches new connections, as with serve. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Server } from '@grpc/grpc-js';
import { createLogger } from '../logger.js';
import { eventually, until } from '../../test/helpers/until.js';
import { healthServiceDefinition } from '../envoy/protos.js';
import { HealthStatus } from './health-service.js';
import { selfSignedCertificate } from './self-signed-certificate.js';
import { servingCredentials } from './serving-credentials.js';

const HOST = '127.0.1.20';

/** The fingerprint of the certificate a new TLS connection is shown (ALPN h2, as a gRPC client asks). */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: HOST, port, rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => {
      const fp = s.getPeerX509Certificate()?.fingerprint256 ?? '';
      s.destroy();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

test('a renewed pair written over the files is served to new connections; a pair that does not load keeps the one in force', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-extproc-reload-'));
  const [certFile, keyFile] = [join(dir, 'tls.crt'), join(dir, 'tls.key')];
  const lines: string[] = [];
  const log = createLogger('info', (l) => lines.push(l));
  const first = selfSignedCertificate({ commonName: 'first', altNames: [HOST] });
  await Promise.all([writeFile(certFile, first.cert), writeFile(keyFile, first.key)]);
  const creds = await servingCredentials({ secureServing: true, certFile, keyFile, log, reload: { pollMs: 20, settleMs: 20 } });
  const server = new Server();
  server.addService(healthServiceDefinition(), new HealthStatus().implementation());
  try {
    const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${HOST}:0`, creds.credentials, (e, p) => (e ? reject(e) : resolve(p))));
    assert.equal(await servedFingerprint(port), new X509Certificate(first.cert).fingerprint256);

    const second = selfSignedCertificate({ commonName: 'renewed', altNames: [HOST] });
    await writeFile(certFile, second.cert);
    await writeFile(keyFile, second.key);
    const renewed = new X509Certificate(second.cert).fingerprint256;
    await eventually('new connections get the renewed certificate', 5000, async () => (await servedFingerprint(port)) === renewed);
    assert.ok(lines.some((l) => /INFO .*TLS certificate reloaded/.test(l)), lines.join('\n'));

    // A key that is not the certificate's: logged, and the renewed pair still serves.
    await writeFile(keyFile, selfSignedCertificate().key);
    await until(() => lines.some((l) => /ERROR .*TLS certificate was not reloaded; the one in force still serves/.test(l)), 'the refused pair logged', 5000);
    assert.equal(await servedFingerprint(port), renewed);
  } finally {
    creds.close();
    server.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  }
});
