/** `serve --cert-file --key-file`: HTTPS on the traffic port (the admin port stays plain HTTP, for probes and Prometheus). */
import type { Command } from 'commander';
import type { Logger } from '../logger.js';
import { loadCertificate, ServingCertificate } from '../proxy/serving-certificate.js';
import { exitStartup } from './startup-failure.js';

export interface TlsFlags {
  certFile?: string;
  keyFile?: string;
}

export function addTlsOptions(cmd: Command): Command {
  return cmd
    .option('--cert-file <file>', 'PEM certificate (its chain after it) to serve HTTPS on the traffic port with --key-file; both files are read again when they change, so a renewal needs no restart (default: plain HTTP)')
    .option('--key-file <file>', 'PEM private key of --cert-file');
}

/** The certificate the flags name, or undefined for plain HTTP; a usage error (exit 2) when only one is given or the pair does not load. */
export function servingCertificateOrExit(flags: TlsFlags, log: Logger): ServingCertificate | undefined {
  if (flags.certFile === undefined && flags.keyFile === undefined) return undefined;
  if (flags.certFile === undefined || flags.keyFile === undefined) {
    exitStartup('error: --cert-file and --key-file go together: give both for HTTPS, or neither for plain HTTP', 2);
  }
  try {
    return new ServingCertificate({ certFile: flags.certFile, keyFile: flags.keyFile }, log);
  } catch (e) {
    exitStartup(`error: ${(e as Error).message}`, 2);
  }
}

/**
 * `extproc --cert-file --key-file`: a usage error (exit 2) when only one is given or the pair does not load, as for
 * `serve`, before the configuration is read (gRPC would only fail when binding the ports).
 */
export function checkCertificateFilesOrExit(flags: TlsFlags): void {
  if (flags.certFile === undefined && flags.keyFile === undefined) return;
  if (flags.certFile === undefined || flags.keyFile === undefined) {
    exitStartup('error: --cert-file and --key-file go together: give both, or neither for the self-signed certificate', 2);
  }
  try {
    loadCertificate({ certFile: flags.certFile, keyFile: flags.keyFile });
  } catch (e) {
    exitStartup(`error: ${(e as Error).message}`, 2);
  }
}
