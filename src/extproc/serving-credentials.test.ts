/** servingCredentials: certificate files checked at once, naming both files, before gRPC sees them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCertificate } from './self-signed-certificate.js';
import { servingCredentials } from './serving-credentials.js';
import { createLogger } from '../logger.js';

const log = createLogger('silent');

test('a certificate with its own key serves; another key, a missing file or one file alone is refused, naming the files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-extproc-tls-'));
  try {
    const a = selfSignedCertificate({ commonName: 'a' });
    const b = selfSignedCertificate({ commonName: 'b' });
    const [certA, keyA, keyB] = [join(dir, 'a.crt'), join(dir, 'a.key'), join(dir, 'b.key')];
    await Promise.all([writeFile(certA, a.cert), writeFile(keyA, a.key), writeFile(keyB, b.key)]);

    const ok = await servingCredentials({ secureServing: true, certFile: certA, keyFile: keyA, log });
    assert.equal(ok.describe, `TLS with ${certA}`);
    assert.deepEqual(ok.certificate, { cert: a.cert, key: a.key });
    ok.close();

    await assert.rejects(servingCredentials({ secureServing: true, certFile: certA, keyFile: keyB, log }), (e: Error) => {
      assert.match(e.message, new RegExp(`^--cert-file ${certA} and --key-file ${keyB} do not make a TLS certificate: .*key values mismatch`));
      return true;
    });
    await assert.rejects(servingCredentials({ secureServing: true, certFile: join(dir, 'none.crt'), keyFile: keyA, log }), /^Error: cannot read --cert-file .*none\.crt: ENOENT/);
    await assert.rejects(servingCredentials({ secureServing: true, certFile: certA, log }), /go together/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('without files: the self-signed certificate with --secure-serving, plaintext without', async () => {
  const self = await servingCredentials({ secureServing: true, log });
  assert.match(self.certificate?.cert ?? '', /BEGIN CERTIFICATE/);
  const plain = await servingCredentials({ secureServing: false, log });
  assert.equal(plain.certificate, undefined);
  assert.match(plain.describe, /plaintext/);
});
