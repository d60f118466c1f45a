/** Allowlist ConfigMaps that disagree (one adapter, two bases) or name a base model no server runs. */
import { buildAllowlistTable } from '../../bbr/allowlist-table.js';
import { keyOf } from '../../api/object-meta.js';
import type { Check } from '../check.js';
import { subjectOf, type Finding } from '../finding.js';
import { listNames, ServedModels } from '../served-models.js';

export const allowlistConflicts: Check = {
  name: 'allowlist-conflicts',
  codes: ['allowlist-adapter-two-bases', 'allowlist-adapter-is-base', 'allowlist-base-not-served'],
  run(ctx) {
    const allowlists = ctx.snapshot.allowlists;
    const findings: Finding[] = [];
    const bases = new Set(allowlists.map((a) => a.baseModel));
    // The gateway's own table decides what conflicts, so validate and serve never disagree.
    for (const issue of buildAllowlistTable(allowlists).issues) {
      const a = allowlists.find((x) => x.source === issue.location);
      const index = /^data\.adapters\[(\d+)\]$/.exec(issue.field ?? '')?.[1];
      const adapter = a && index !== undefined ? a.adapters[Number(index)] : undefined;
      if (!a || adapter === undefined) continue;
      const isBase = bases.has(adapter);
      findings.push({
        severity: 'error',
        code: isBase ? 'allowlist-adapter-is-base' : 'allowlist-adapter-two-bases',
        ...subjectOf(a),
        field: issue.field,
        message: `${issue.message}. ${ctx.source === 'files' ? '`serve -f` refuses the configuration' : '`serve --kube` drops this entry'}; GIE's body-based router would map "${adapter}" to whichever ConfigMap it read last.`,
        fix: isBase
          ? `Rename the adapter (the NAME of vLLM's --lora-modules NAME=PATH) so it differs from every base model, or remove "${adapter}" from data.adapters of ConfigMap ${keyOf(a.meta)}.`
          : `Keep "${adapter}" in the allowlist of the one base model it was trained on, and delete it from the other ConfigMap; if they are two different adapters, give them different names.`,
      });
    }
    // Only when every server's models are known: otherwise "no server" may just mean "not seen".
    const servers = new ServedModels([], ctx.servers);
    if (ctx.servers.length > 0 && servers.complete) {
      for (const a of allowlists) {
        if (!a.baseModel || servers.bases.has(a.baseModel)) continue;
        findings.push({
          severity: 'warning',
          code: 'allowlist-base-not-served',
          ...subjectOf(a),
          field: 'data.baseModel',
          message: `base model "${a.baseModel}" is run by no model server an InferencePool selects; they run ${listNames(servers.bases.keys())}. Requests for it${a.adapters.length > 0 ? ' and its adapters' : ''} find no endpoint.`,
          fix: `Spell data.baseModel exactly as the server's --served-model-name (or --model) says, or delete the ConfigMap if that model is no longer served.`,
        });
      }
    }
    return findings;
  },
};
