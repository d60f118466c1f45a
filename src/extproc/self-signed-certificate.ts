/**
 * A self-signed TLS certificate made at startup, as GIE's EPP does for --secure-serving: an ECDSA P-256
 * key and an X.509 v3 certificate built with node:crypto alone (no openssl binary, no dependency).
 * Data planes talk to ext_proc servers without verifying them (GIE's examples skip verification).
 */
import { X509Certificate, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { bitString, boolean, explicit, implicit, integer, objectIdentifier, octetString, sequence, set, time, utf8String } from './der.js';

export interface CertificatePair {
  /** PEM. */
  cert: string;
  /** PEM, PKCS#8. */
  key: string;
}

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';
const SUBJECT_ALT_NAME = '2.5.29.17';
const BASIC_CONSTRAINTS = '2.5.29.19';
const EXT_KEY_USAGE = '2.5.29.37';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

export interface SelfSignedOptions {
  commonName?: string;
  /** DNS names and IP addresses; default localhost, this host's name, 127.0.0.1 and ::1. */
  altNames?: readonly string[];
  /** Default 10 years. */
  validDays?: number;
  now?: Date;
}

export function selfSignedCertificate(opts: SelfSignedOptions = {}): CertificatePair {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = opts.now ?? new Date();
  // Backdated an hour so a client whose clock is a little behind still accepts it.
  const notBefore = new Date(now.getTime() - 3600_000);
  const notAfter = new Date(now.getTime() + (opts.validDays ?? 3650) * 86_400_000);
  const name = sequence(set(sequence(objectIdentifier(COMMON_NAME), utf8String(opts.commonName ?? 'infergate-extproc'))));
  const algorithm = sequence(objectIdentifier(ECDSA_WITH_SHA256));
  const altNames = opts.altNames ?? ['localhost', hostname(), '127.0.0.1', '::1'];
  const tbs = sequence(
    explicit(0, integer(2)), // v3
    integer(Buffer.concat([Buffer.from([0x01]), randomBytes(15)])),
    algorithm,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(
      3,
      sequence(
        sequence(objectIdentifier(SUBJECT_ALT_NAME), octetString(sequence(...[...new Set(altNames)].map(generalName)))),
        sequence(objectIdentifier(BASIC_CONSTRAINTS), boolean(true), octetString(sequence())),
        sequence(objectIdentifier(EXT_KEY_USAGE), octetString(sequence(objectIdentifier(SERVER_AUTH)))),
      ),
    ),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = sequence(tbs, algorithm, bitString(signature));
  const cert = new X509Certificate(der);
  if (!cert.verify(publicKey)) throw new Error('the generated self-signed certificate does not verify');
  return { cert: cert.toString(), key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

function generalName(n: string): Buffer {
  if (isIP(n) === 4) return implicit(7, Buffer.from(n.split('.').map(Number)));
  if (isIP(n) === 6) return implicit(7, ipv6Bytes(n));
  return implicit(2, Buffer.from(n, 'ascii'));
}

function ipv6Bytes(ip: string): Buffer {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
