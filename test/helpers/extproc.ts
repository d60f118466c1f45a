/** The ext_proc servers as end-to-end tests run them, and the end-of-stream check they share. No Envoy binary runs. */
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { ProcessingStreamClient } from '../../src/extproc/ext-proc-client.js';
import { DEFAULT_EXTPROC_OPTIONS, startExtproc, type ExtprocOptions, type RunningExtproc } from '../../src/extproc/start-extproc.js';
import { createLogger } from '../../src/logger.js';

/**
 * The servers on 127.0.0.1, every port ephemeral, plaintext, a 100 ms shutdown grace, logging nothing (set
 * INFERGATE_TEST_LOG=debug to see more). `options` names the source (`configPath` or `kube`) and overrides
 * any of those, e.g. `secureServing: true`.
 */
export function startTestExtproc(options: Partial<ExtprocOptions>): Promise<RunningExtproc> {
  const level = process.env.INFERGATE_TEST_LOG === 'debug' ? 'debug' : 'silent';
  return startExtproc({ ...DEFAULT_EXTPROC_OPTIONS, host: '127.0.0.1', bbrPort: 0, eppPort: 0, healthPort: 0, adminPort: 0, secureServing: false, shutdownGraceMs: 100, log: createLogger(level), ...options });
}

/** Half-closes the stream as Envoy does when the HTTP stream is over, and checks the server ended it with OK. */
export async function ended(s: ProcessingStreamClient): Promise<void> {
  s.end();
  const st = await s.status;
  assert.equal(st.code, status.OK, st.details);
}
