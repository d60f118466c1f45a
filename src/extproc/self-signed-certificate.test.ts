import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { integer, objectIdentifier, time, tlv } from './der.js';
import { selfSignedCertificate } from './self-signed-certificate.js';

test('DER encodings (X.690 examples)', () => {
  const cases: [string, Buffer, string][] = [
    ['short length', tlv(0x04, Buffer.alloc(3)), '0403000000'],
    ['long length', tlv(0x04, Buffer.alloc(200)).subarray(0, 3), '0481c8'],
    ['two-byte length', tlv(0x04, Buffer.alloc(300)).subarray(0, 4), '0482012c'],
    ['INTEGER 2', integer(2), '020102'],
    ['INTEGER with top bit set gets a 0 byte', integer(Buffer.from([0x80])), '02020080'],
    ['INTEGER leading zeros dropped', integer(Buffer.from([0, 0, 1])), '020101'],
    ['OID ecdsa-with-SHA256', objectIdentifier('1.2.840.10045.4.3.2'), '06082a8648ce3d040302'],
    ['UTCTime', time(new Date('2030-01-02T03:04:05Z')), '170d3330303130323033303430355a'],
    ['GeneralizedTime from 2050', time(new Date('2050-01-02T03:04:05Z')), '180f32303530303130323033303430355a'],
  ];
  for (const [name, got, hex] of cases) assert.equal(got.toString('hex'), hex, name);
});

test('the self-signed certificate parses, verifies, matches its key and names the loopback addresses', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const pair = selfSignedCertificate({ now, validDays: 365, altNames: ['localhost', 'epp.example', '127.0.0.1', '::1'] });
  const cert = new X509Certificate(pair.cert);
  assert.equal(cert.subject, 'CN=infergate-extproc');
  assert.equal(cert.issuer, cert.subject);
  assert.equal(cert.subjectAltName, 'DNS:localhost, DNS:epp.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  assert.ok(cert.verify(cert.publicKey));
  assert.ok(cert.checkPrivateKey(createPrivateKey(pair.key)));
  assert.equal(cert.checkHost('epp.example'), 'epp.example');
  assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(new Date(cert.validFrom).toISOString(), '2025-12-31T23:00:00.000Z');
  assert.equal(new Date(cert.validTo).toISOString(), '2027-01-01T00:00:00.000Z');
  assert.equal(cert.ca, false);
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
});
