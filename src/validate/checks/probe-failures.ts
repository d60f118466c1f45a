/**
 * With `--probe`: servers whose GET /v1/models did not answer, so what they serve comes from their vLLM args;
 * and servers that refused the gateway's API key (401, 403), whose models the gateway would not serve.
 */
import { HOW_TO_SET_A_KEY } from '../../upstream/api-key-source.js';
import type { Check } from '../check.js';
import type { Finding } from '../finding.js';
import type { ProbeFailure } from '../validation-context.js';

export const probeFailures: Check = {
  name: 'probe-failures',
  codes: ['probe-failed', 'probe-refused'],
  run(ctx) {
    return ctx.probeFailures.map((f) => (f.refused !== undefined ? refused(f, f.refused) : unanswered(f)));
  },
};

function refused(f: ProbeFailure, status: number): Finding {
  return {
    severity: 'error',
    code: 'probe-refused',
    object: f.server.ref,
    location: f.server.location,
    field: null,
    message: `${f.message}. The gateway asks it the same way, so it would send it no requests (503 no_healthy_endpoint naming this ${status}, or 404 model_not_found when no other pod serves the model)`,
    fix: `Give the gateway the key the pod was started with: ${HOW_TO_SET_A_KEY}. validate takes --upstream-api-key-file and INFERGATE_UPSTREAM_API_KEY as serve does.`,
  };
}

function unanswered(f: ProbeFailure): Finding {
  return {
    severity: 'warning',
    code: 'probe-failed',
    object: f.server.ref,
    location: f.server.location,
    field: null,
    message: `${f.message}; ${f.server.served ? 'what it serves is taken from its vLLM args' : 'what it serves is not known'}`,
    fix: 'Run validate where the pods are reachable (in the cluster, or through a port-forward), or without --probe to check against the vLLM args alone.',
  };
}
