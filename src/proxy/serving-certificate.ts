/**
 * The traffic listener's TLS certificate (`serve --cert-file --key-file`): read and checked at startup, and
 * read again when either file changes, so a renewal (cert-manager rewriting a Secret's mounted files) needs no
 * restart. A pair that does not load leaves the one in force serving, and says why in the log.
 */
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Logger } from '../logger.js';

export interface CertificateFiles {
  /** PEM certificate, its chain after it. */
  certFile: string;
  /** PEM private key of that certificate. */
  keyFile: string;
}

/** The PEM bytes a TLS server takes (`https.createServer`, `setSecureContext`). */
export interface CertificatePem {
  cert: Buffer;
  key: Buffer;
}

export interface ServingCertificateOptions {
  /** How often the files are looked at (ms). */
  pollMs?: number;
  /** How long after a change the files are read (ms): a renewal writes both, and the first alone does not load. */
  settleMs?: number;
}

const POLL_MS = 5000;
const SETTLE_MS = 1000;

/** Reads both files and checks they make a TLS context (a key that does not match the certificate fails here). */
export function loadCertificate(files: CertificateFiles): CertificatePem {
  const read = (flag: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`cannot read ${flag} ${path}: ${(e as Error).message}`);
    }
  };
  const pem = { cert: read('--cert-file', files.certFile), key: read('--key-file', files.keyFile) };
  try {
    createSecureContext(pem);
  } catch (e) {
    throw new Error(`--cert-file ${files.certFile} and --key-file ${files.keyFile} do not make a TLS certificate: ${(e as Error).message}`);
  }
  return pem;
}

export class ServingCertificate {
  readonly files: CertificateFiles;
  #pem: CertificatePem;
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #settleMs: number;
  #apply: ((pem: CertificatePem) => void) | undefined;
  #settle: NodeJS.Timeout | undefined;
  readonly #changed = (curr: Stats, prev: Stats): void => {
    if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size && curr.ino === prev.ino) return;
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => this.#reload(), this.#settleMs);
    this.#settle.unref();
  };

  /** Throws, naming the flag and the file, when the pair cannot be read or does not load. */
  constructor(files: CertificateFiles, log: Logger, options: ServingCertificateOptions = {}) {
    this.files = files;
    this.#log = log;
    this.#pollMs = options.pollMs ?? POLL_MS;
    this.#settleMs = options.settleMs ?? SETTLE_MS;
    this.#pem = loadCertificate(files);
  }

  /** The pair in force. */
  get pem(): CertificatePem {
    return this.#pem;
  }

  /** Calls `apply` with every new pair that loads, until close(). */
  watch(apply: (pem: CertificatePem) => void): void {
    this.#apply = apply;
    // Polled, not fs.watch: a Secret volume swaps a symlinked directory, which stat (following links) sees.
    for (const f of [this.files.certFile, this.files.keyFile]) watchFile(f, { interval: this.#pollMs, persistent: false }, this.#changed);
  }

  close(): void {
    clearTimeout(this.#settle);
    this.#apply = undefined;
    for (const f of [this.files.certFile, this.files.keyFile]) unwatchFile(f, this.#changed);
  }

  #reload(): void {
    if (!this.#apply) return;
    let pem: CertificatePem;
    try {
      pem = loadCertificate(this.files);
    } catch (e) {
      this.#log.error(`the TLS certificate was not reloaded; the one in force still serves: ${(e as Error).message}`);
      return;
    }
    if (pem.cert.equals(this.#pem.cert) && pem.key.equals(this.#pem.key)) return;
    this.#pem = pem;
    this.#apply(pem);
    this.#log.info('TLS certificate reloaded: new connections get it', { cert_file: this.files.certFile });
  }
}
