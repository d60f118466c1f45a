/** TLS for the ext_proc ports: given certificate files, else (with --secure-serving, GIE's default) a self-signed certificate, else plaintext. */
import { ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from '../logger.js';
import { ServingCertificate, type ServingCertificateOptions } from '../proxy/serving-certificate.js';
import { ReloadingServerCredentials } from './reloading-credentials.js';
import { selfSignedCertificate, type CertificatePair } from './self-signed-certificate.js';

export interface TlsOptions {
  secureServing: boolean;
  certFile?: string;
  keyFile?: string;
  /** Where a renewal of the files, or a pair that does not load, is logged. */
  log: Logger;
  /** How often the files are looked at, and how long after a change they are read (tests); serve's defaults otherwise. */
  reload?: ServingCertificateOptions;
}

export interface ServingCredentials {
  credentials: ServerCredentials;
  /** The certificate served at startup (PEM), when TLS is on: clients that want to verify it can pin it. */
  certificate?: CertificatePair;
  /** For the startup log. */
  describe: string;
  /** Stops watching the certificate files, when there are files. */
  close(): void;
}

/**
 * The credentials the flags ask for. Throws, naming both files, when given files cannot be read or do not make a
 * certificate together (a key of another certificate): gRPC itself would only say so when the ports are bound,
 * after the configuration has loaded, in OpenSSL's words alone.
 */
export async function servingCredentials(opts: TlsOptions): Promise<ServingCredentials> {
  if ((opts.certFile === undefined) !== (opts.keyFile === undefined)) throw new Error('--cert-file and --key-file go together: give both or neither');
  if (opts.certFile !== undefined && opts.keyFile !== undefined) {
    // Read again when the files change, as serve's --cert-file: a renewed certificate needs no restart.
    const files = new ServingCertificate({ certFile: opts.certFile, keyFile: opts.keyFile }, opts.log, opts.reload);
    const pair = { cert: files.pem.cert.toString('utf8'), key: files.pem.key.toString('utf8') };
    const credentials = new ReloadingServerCredentials(files);
    return { credentials, certificate: pair, describe: `TLS with ${opts.certFile}`, close: () => credentials.close() };
  }
  if (!opts.secureServing) return { credentials: ServerCredentials.createInsecure(), describe: 'plaintext (--no-secure-serving)', close: NOTHING };
  const certificate = selfSignedCertificate();
  return { credentials: tls(certificate), certificate, describe: 'TLS with a self-signed certificate made at startup', close: NOTHING };
}

const NOTHING = (): void => undefined;

function tls(pair: CertificatePair): ServerCredentials {
  return ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(pair.cert), private_key: Buffer.from(pair.key) }], false);
}
