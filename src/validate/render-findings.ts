/** Findings as text for people (`--output text`) and as a stable JSON document for programs (`--output json`). */
import { formatObject, type Finding } from './finding.js';
import type { ValidationReport } from './run-validate.js';

/**
 * One block per finding, then a summary line:
 * ```
 * error backend-pool-missing: HTTPRoute llm-d/phi3 (routes.yaml, document 2) spec.rules[0].backendRefs[0]
 *   names InferencePool llm-d/phi3, which is not in the configuration: ...
 *   fix: Create InferencePool llm-d/phi3, or ...
 * ```
 */
export function renderText(report: ValidationReport): string {
  const lines: string[] = [];
  for (const f of report.findings) {
    lines.push(`${f.severity} ${f.code}: ${where(f)}`, `  ${f.message}`, `  fix: ${f.fix}`, '');
  }
  const { errors, warnings, objects, servers, skipped } = report.summary;
  const counted = Object.entries(objects)
    .map(([kind, n]) => plural(n, kind))
    .join(', ');
  const serving = servers.total === 0 ? '' : `; what ${servers.known} of ${servers.total} model servers serve is known${servers.from.length > 0 ? ` (${servers.from.join(', ')})` : ''}`;
  const others = Object.entries(skipped).map(([kind, n]) => plural(n, kind)).join(', ');
  const ignored = others ? `; skipped ${others} (kinds infergate does not read)` : '';
  lines.push(`checked ${counted || 'no objects infergate reads'}${serving}${ignored}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`);
  return lines.join('\n');
}

/** `{"findings": [...], "summary": {...}}` with every finding's keys in one fixed order. */
export function renderJson(report: ValidationReport): string {
  const findings = report.findings.map((f) => ({ severity: f.severity, code: f.code, object: f.object, location: f.location, field: f.field, message: f.message, fix: f.fix }));
  return JSON.stringify({ findings, summary: report.summary }, null, 2);
}

function where(f: Finding): string {
  const parts: string[] = [];
  if (f.object) parts.push(formatObject(f.object));
  if (f.location) parts.push(`(${f.location.file}, document ${f.location.document}${f.location.item !== undefined ? `, items[${f.location.item}]` : ''})`);
  if (f.field) parts.push(f.field);
  return parts.join(' ') || '(configuration)';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
