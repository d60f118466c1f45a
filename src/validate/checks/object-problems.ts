/**
 * Problems of single objects (YAML syntax, fields) and what a strict load refuses (duplicates, bad upstream
 * annotations): the loader's own errors; and the loader's warnings about one object (a kind infergate does
 * not read, an unknown `infergate.io/` annotation), with the field named.
 */
import { formatIssue, type ConfigIssue } from '../../api/config-issue.js';
import { buildAllowlistTable } from '../../bbr/allowlist-table.js';
import type { Check } from '../check.js';
import { subjectAt, type Finding } from '../finding.js';
import type { ValidationContext } from '../validation-context.js';

export const objectProblems: Check = {
  name: 'object-problems',
  codes: ['invalid-object', 'duplicate-object', 'config-error', 'config-warning', 'unknown-field'],
  run(ctx) {
    const consequence =
      ctx.source === 'files'
        ? '`serve -f` refuses the whole configuration while any object is invalid.'
        : '`serve --kube` leaves this object out until it is fixed.';
    const findings = ctx.readIssues.map((i) =>
      issueFinding(i, 'invalid-object', notAnObject(i) ? `This document is not a Kubernetes object (a kustomize patch, another tool's configuration?): keep such files out of what -f reads. ${consequence}` : `Correct ${i.field ?? 'the document'} as the message says. ${consequence}`),
    );
    // Allowlist conflicts are the strict build's too; allowlistConflicts reports them with their own codes.
    const allowlist = new Set(buildAllowlistTable(ctx.snapshot.allowlists).issues.map(formatIssue));
    for (const i of ctx.strictIssues) {
      if (allowlist.has(formatIssue(i))) continue;
      const duplicate = i.message.startsWith('duplicate ');
      findings.push(
        issueFinding(i, duplicate ? 'duplicate-object' : 'config-error', duplicate ? 'Keep one declaration of the object: rename or delete the other.' : `Correct the object as the message says. ${consequence}`),
      );
    }
    for (const w of ctx.readWarnings) {
      if (w.field === 'kind') {
        findings.push({ ...issueFinding(w, 'config-warning', 'The gateway logs this warning when it loads the configuration: correct the kind (and apiVersion), or keep the document out of what -f reads.'), severity: 'warning' });
        continue;
      }
      if (w.lenient) {
        findings.push({ ...issueFinding(w, 'config-warning', 'The gateway loads the object as the message says (as llm-d would) and logs this warning: correct the value to silence it.'), severity: 'warning' });
        continue;
      }
      // The gateway loads the object without the field (and logs a warning); an error where that changes routing.
      const fix = `Rename the field as the message says, or delete it; the gateway loads the object without it${w.misroutes ? ', which changes where requests go' : ''}.`;
      findings.push({ ...issueFinding(w, 'unknown-field', fix), severity: w.misroutes ? 'error' : 'warning' });
    }
    for (const w of ctx.snapshot.fieldWarnings) {
      findings.push({ ...issueFinding(w, 'config-warning', 'The gateway logs this warning when it loads the configuration: correct or remove the annotation.'), severity: 'warning' });
    }
    return findings;
  },
};

/** A document without a kind, or that is no mapping: not a Kubernetes object at all. */
function notAnObject(issue: ConfigIssue): boolean {
  return !issue.location.kind && (issue.field === 'kind' || issue.field === '(document)');
}

function issueFinding(issue: ConfigIssue, code: string, fix: string): Finding {
  return { severity: 'error', code, ...subjectAt(issue.location), field: issue.field, message: issue.message, fix };
}

/**
 * The formatted issues a lenient build turns into warnings, and the field warnings reported above: the
 * snapshot-warnings pass-through leaves them out.
 */
export function formattedStrictIssues(ctx: ValidationContext): Set<string> {
  return new Set([...ctx.strictIssues, ...ctx.snapshot.fieldWarnings].map(formatIssue));
}
