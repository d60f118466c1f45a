/** `serve`'s flags for calling external endpoint pickers over ext_proc (src/epp/external), read into GatewayOptions. */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_EXTERNAL_PICKER_OPTIONS, type ExternalPickerOptions } from '../epp/external/external-pickers.js';
import { formatDuration } from '../upstream/duration.js';
import { durationFlag, USAGE_EXIT_CODE } from './parse-flags.js';
import { exitStartup } from './startup-failure.js';

export interface ExternalPickerFlags {
  eppMessageTimeout?: number;
  eppPlaintext?: boolean;
  eppCaFile?: string;
  eppResponseHeaderMode?: 'SEND' | 'SKIP';
}

export function addExternalPickerOptions(cmd: Command): Command {
  return cmd
    .option(
      '--epp-message-timeout <duration>',
      `how long an external endpoint picker (a pool's endpointPickerRef to a Service other than --epp-service-name) may take to decide, as Envoy's ext_proc message_timeout; past it the pool's failureMode applies (and an answer waiting for its changes to the response headers goes on unchanged). Raise it past llm-d's flow-control queue TTL when its EPP queues requests (default: ${formatDuration(DEFAULT_EXTERNAL_PICKER_OPTIONS.messageTimeoutMs)})`,
      durationFlag(1),
    )
    .option('--epp-plaintext', 'call external endpoint pickers in plaintext gRPC (h2c), for ones started with --secure-serving=false (default: TLS, as GIE\'s and llm-d\'s EPPs and infergate extproc serve)')
    .option(
      '--epp-response-header-mode <mode>',
      "send: report each endpoint's response headers to the external picker and wait for its changes to them before the client gets them, as GIE's and llm-d's Envoy configurations do; skip: do not send them, for a picker deployed behind an Envoy whose processing_mode skips them (default: send)",
      (text: string): 'SEND' | 'SKIP' => {
        const mode = text.toUpperCase();
        if (mode !== 'SEND' && mode !== 'SKIP') throw new InvalidArgumentError(`must be send or skip (Envoy's response_header_mode), got ${JSON.stringify(text)}`);
        return mode;
      },
    )
    .option('--epp-ca-file <file>', "PEM CA certificate(s) to verify external endpoint pickers' certificates with, for the name NAME.NAMESPACE.svc of the ref's Service (default: TLS without verification, as Gateway implementations treat the EPP's self-signed certificate)");
}

/** The flags as GatewayOptions; a CA file that cannot be read exits 2 now rather than failing every request later. */
export async function externalPickerOptionsOrExit(flags: ExternalPickerFlags): Promise<{ externalPickers: Partial<ExternalPickerOptions> }> {
  const out: Partial<ExternalPickerOptions> = {};
  if (flags.eppMessageTimeout !== undefined) out.messageTimeoutMs = flags.eppMessageTimeout;
  if (flags.eppPlaintext === true) out.plaintext = true;
  if (flags.eppResponseHeaderMode !== undefined) out.responseHeaderMode = flags.eppResponseHeaderMode;
  if (flags.eppCaFile !== undefined) {
    if (flags.eppPlaintext === true) {
      exitStartup('error: --epp-ca-file verifies TLS certificates; it cannot go with --epp-plaintext', USAGE_EXIT_CODE);
    }
    try {
      out.caPem = await readFile(flags.eppCaFile, 'utf8');
    } catch (e) {
      exitStartup(`error: --epp-ca-file ${flags.eppCaFile}: ${(e as Error).message}`, USAGE_EXIT_CODE);
    }
  }
  return { externalPickers: out };
}
