/**
 * gRPC server credentials from certificate files that are read again when they change (a cert-manager renewal
 * rewriting a Secret's mounted files), as `serve`'s traffic port does: grpc-js gives each new pair to its TLS
 * servers (`setSecureContext`), so new connections get it and open ones keep theirs.
 */
import { ServerCredentials } from '@grpc/grpc-js';
import type { SecureContextOptions } from 'node:tls';
import type { CertificatePem, ServingCertificate } from '../proxy/serving-certificate.js';

export class ReloadingServerCredentials extends ServerCredentials {
  readonly #certificate: ServingCertificate;

  /** Serves `certificate`'s pair in force, and each new one it loads until close(). */
  constructor(certificate: ServingCertificate) {
    // What ServerCredentials.createSsl sets: no client certificate asked for, gRPC's cipher suites if configured.
    super({ requestCert: false, ciphers: process.env.GRPC_SSL_CIPHER_SUITES }, contextOf(certificate.pem));
    this.#certificate = certificate;
    certificate.watch((pem) => this.updateSecureContextOptions(contextOf(pem)));
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }

  /** Stops watching the files. */
  close(): void {
    this.#certificate.close();
  }
}

function contextOf(pem: CertificatePem): SecureContextOptions {
  return { cert: [pem.cert], key: [pem.key] };
}
