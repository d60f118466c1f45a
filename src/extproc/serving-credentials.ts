/** TLS for the ext_proc ports: given certificate files, else (with --secure-serving, GIE's default) a self-signed certificate, else plaintext. */
import { readFile } from 'node:fs/promises';
import { ServerCredentials } from '@grpc/grpc-js';
import { selfSignedCertificate, type CertificatePair } from './self-signed-certificate.js';

export interface TlsOptions {
  secureServing: boolean;
  certFile?: string;
  keyFile?: string;
}

export interface ServingCredentials {
  credentials: ServerCredentials;
  /** The certificate in use (PEM), when TLS is on: clients that want to verify it can pin it. */
  certificate?: CertificatePair;
  /** For the startup log. */
  describe: string;
}

export async function servingCredentials(opts: TlsOptions): Promise<ServingCredentials> {
  if ((opts.certFile === undefined) !== (opts.keyFile === undefined)) throw new Error('--cert-file and --key-file go together: give both or neither');
  if (opts.certFile !== undefined && opts.keyFile !== undefined) {
    const [cert, key] = await Promise.all([readFile(opts.certFile, 'utf8'), readFile(opts.keyFile, 'utf8')]);
    return { credentials: tls({ cert, key }), certificate: { cert, key }, describe: `TLS with ${opts.certFile}` };
  }
  if (!opts.secureServing) return { credentials: ServerCredentials.createInsecure(), describe: 'plaintext (--no-secure-serving)' };
  const certificate = selfSignedCertificate();
  return { credentials: tls(certificate), certificate, describe: 'TLS with a self-signed certificate made at startup' };
}

function tls(pair: CertificatePair): ServerCredentials {
  return ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(pair.cert), private_key: Buffer.from(pair.key) }], false);
}
