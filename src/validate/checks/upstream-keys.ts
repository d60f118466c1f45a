/**
 * InferencePools and their pods' API keys: annotations `serve` would refuse, and pools selecting model
 * servers started with `--api-key` (or VLLM_API_KEY) while the gateway would send them no key: their
 * GET /v1/models answers 401, so their models are never served.
 */
import { API_KEY_ENV, API_KEY_FILE_ANNOTATION, API_KEY_FILE_FLAG, API_KEY_SECRET_ANNOTATION, poolApiKeySource } from '../../upstream/api-key-source.js';
import type { Check } from '../check.js';
import { subjectOf, type Finding } from '../finding.js';
import { describeServer } from '../model-servers.js';

export const upstreamKeys: Check = {
  name: 'upstream-keys',
  codes: ['api-key-annotation-invalid', 'api-key-annotation-unknown', 'api-key-missing'],
  run(ctx) {
    const findings: Finding[] = [];
    for (const [key, pool] of ctx.snapshot.pools) {
      const r = poolApiKeySource(pool, ctx.options.upstreamKey);
      for (const issue of r.issues) {
        findings.push({
          ...subjectOf(pool),
          field: issue.field,
          severity: 'error',
          code: 'api-key-annotation-invalid',
          message: `${issue.message}: serve -f refuses the configuration; serve --kube sends the pool's pods ${ctx.options.upstreamKey ? `the ${API_KEY_FILE_FLAG} key` : 'no key'} instead`,
          fix: `Give ${API_KEY_FILE_ANNOTATION} an absolute file path, or ${API_KEY_SECRET_ANNOTATION} a Secret name (NAME or NAME/KEY), not both.`,
        });
      }
      for (const w of r.warnings) {
        const annotation = /annotation (\S+)/.exec(w)?.[1] ?? '';
        findings.push({
          ...subjectOf(pool),
          field: `metadata.annotations.${annotation}`,
          severity: 'warning',
          code: 'api-key-annotation-unknown',
          message: `annotation ${annotation} is not one infergate reads: the pool's pods get no key from it`,
          fix: `Name the key with ${API_KEY_FILE_ANNOTATION} or ${API_KEY_SECRET_ANNOTATION}.`,
        });
      }
      if (r.source) continue;
      const keyed = (ctx.members.get(key) ?? []).filter((s) => s.ready && s.apiKey !== undefined);
      if (keyed.length === 0) continue;
      const shown = keyed.slice(0, 3).map((s) => `${describeServer(s)} (${s.apiKey})`).join(', ');
      findings.push({
        ...subjectOf(pool),
        field: null,
        severity: 'error',
        code: 'api-key-missing',
        message: `selects ${keyed.length} model server${keyed.length === 1 ? ' that requires' : 's that require'} an API key (${shown}${keyed.length > 3 ? ', ...' : ''}), but names no key and none is given for every pool: their GET /v1/models answers 401, so the gateway serves none of their models (404 model_not_found or 503 no_healthy_endpoint)`,
        fix: `Set the annotation ${API_KEY_SECRET_ANNOTATION}: NAME[/KEY] (the Secret the pods read their key from, with --kube) or ${API_KEY_FILE_ANNOTATION}: /path (a file the gateway can read), or run the gateway with ${API_KEY_FILE_FLAG} or ${API_KEY_ENV} (validate takes them too).`,
      });
    }
    return findings;
  },
};
