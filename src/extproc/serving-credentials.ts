/** TLS for the ext_proc ports: given certificate files, else (with --secure-serving, GIE's default) a self-signed certificate, else plaintext. */
import { ServerCredentials } from '@grpc/grpc-js';
import { loadCertificate } from '../proxy/serving-certificate.js';
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

/**
 * The credentials the flags ask for. Throws, naming both files, when given files cannot be read or do not make a
 * certificate together (a key of another certificate): gRPC itself would only say so when the ports are bound,
 * after the configuration has loaded, in OpenSSL's words alone.
 */
export async function servingCredentials(opts: TlsOptions): Promise<ServingCredentials> {
  if ((opts.certFile === undefined) !== (opts.keyFile === undefined)) throw new Error('--cert-file and --key-file go together: give both or neither');
  if (opts.certFile !== undefined && opts.keyFile !== undefined) {
    const pem = loadCertificate({ certFile: opts.certFile, keyFile: opts.keyFile });
    const pair = { cert: pem.cert.toString('utf8'), key: pem.key.toString('utf8') };
    return { credentials: tls(pair), certificate: pair, describe: `TLS with ${opts.certFile}` };
  }
  if (!opts.secureServing) return { credentials: ServerCredentials.createInsecure(), describe: 'plaintext (--no-secure-serving)' };
  const certificate = selfSignedCertificate();
  return { credentials: tls(certificate), certificate, describe: 'TLS with a self-signed certificate made at startup' };
}

function tls(pair: CertificatePair): ServerCredentials {
  return ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(pair.cert), private_key: Buffer.from(pair.key) }], false);
}
