/** With `--probe`: servers whose GET /v1/models did not answer, so what they serve comes from their vLLM args. */
import type { Check } from '../check.js';

export const probeFailures: Check = {
  name: 'probe-failures',
  codes: ['probe-failed'],
  run(ctx) {
    return ctx.probeFailures.map((f) => ({
      severity: 'warning' as const,
      code: 'probe-failed',
      object: f.server.ref,
      location: f.server.location,
      field: null,
      message: `${f.message}; ${f.server.served ? "what it serves is taken from its vLLM args" : 'what it serves is not known'}`,
      fix: 'Run validate where the pods are reachable (in the cluster, or through a port-forward), or without --probe to check against the vLLM args alone.',
    }));
  },
};
