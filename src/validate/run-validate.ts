/** `infergate validate` without the CLI: read a source, run every check, return the findings in a stable order. */
import type { Logger } from '../logger.js';
import { createLogger } from '../logger.js';
import type { ConfigIssue } from '../api/config-issue.js';
import { YAML_SYNTAX_ERROR } from '../config/load-files.js';
import { CHECKS } from './checks.js';
import { objectProblems } from './checks/object-problems.js';
import type { Check } from './check.js';
import { compareFindings, type Finding } from './finding.js';
import { probeServers } from './probe-models.js';
import { readFilesInput, type StdinSource } from './read-files.js';
import { readKubeInput, type KubeReadOptions } from './read-kube.js';
import { buildContext, type ValidateOptions, type ValidationContext, type ValidationInput } from './validation-context.js';
import { secretReader } from '../config/kube/read-secret.js';
import { UpstreamCredentials } from '../upstream/upstream-credentials.js';

export interface ValidateRequest extends ValidateOptions {
  /** A YAML file or directory; exactly one of `configPath` and `kube`. */
  configPath?: string;
  kube?: KubeReadOptions;
  /** Ask each ready pod's GET /v1/models, with this per-call timeout (ms); off when undefined. */
  probeTimeoutMs?: number;
  /** Where the Kubernetes source logs; silent when unset. */
  log?: Logger;
  /** What `configPath: '-'` reads; process.stdin when unset. */
  stdin?: StdinSource;
}

/** What was checked, for the summary line. */
export interface ValidationSummary {
  errors: number;
  warnings: number;
  /** Kind -> how many were read (`allowlist ConfigMap` apart from other ConfigMaps, `Deployment pod template`). */
  objects: Record<string, number>;
  /** Model servers an InferencePool selects (pods and, with -f, workload templates) and how many say what they serve. */
  servers: { total: number; known: number; from: string[] };
  /** Objects of kinds infergate does not read and that look meant as none it reads (ServiceAccount, Role, Gateway), by kind: skipped without a finding. */
  skipped: Record<string, number>;
}

export interface ValidationReport {
  findings: Finding[];
  summary: ValidationSummary;
}

/** Throws SourceUnreadableError when the source cannot be read at all. */
export async function validate(req: ValidateRequest, checks: readonly Check[] = CHECKS): Promise<ValidationReport> {
  if ((req.configPath === undefined) === (req.kube === undefined)) throw new Error('give exactly one configuration source: a file (-f) or the Kubernetes API (--kube)');
  const input = req.kube ? await readKubeInput(req.kube, req.log ?? createLogger('silent')) : await readFilesInput(req.configPath!, req.stdin);
  return validateInput(input, req, checks);
}

/** The checks over an input already read; probes first when asked. */
export async function validateInput(input: ValidationInput, req: ValidateRequest, checks: readonly Check[] = CHECKS): Promise<ValidationReport> {
  let ctx = buildContext(input, req);
  if (req.probeTimeoutMs !== undefined) {
    // Each pool's API key is sent as `serve` sends it; bad annotations are the upstream-keys check's to report.
    const credentials = new UpstreamCredentials({ defaultSource: req.upstreamKey, readSecret: req.kube ? secretReader(req.kube) : undefined });
    await credentials.prepare(ctx.snapshot, true).commit();
    const probed = await probeServers(ctx.snapshot, input.servers, req.probeTimeoutMs, credentials);
    ctx = buildContext({ ...input, servers: probed.servers }, req, { failures: probed.failures });
  }
  const findings = runChecks(ctx, checks);
  return { findings, summary: summarize(ctx, findings) };
}

export function runChecks(ctx: ValidationContext, checks: readonly Check[] = CHECKS): Finding[] {
  const unparsed = [...new Set(ctx.readIssues.filter(isSyntaxError).map((i) => i.location.file))];
  // A document that does not parse is not read: what other checks find missing may be declared in it.
  return checks.flatMap((c) => (c === objectProblems || unparsed.length === 0 ? c.run(ctx) : c.run(ctx).map((f) => mayFollowFrom(f, unparsed)))).sort(compareFindings);
}

function isSyntaxError(issue: ConfigIssue): boolean {
  return issue.field === null && issue.message.startsWith(YAML_SYNTAX_ERROR);
}

/** A cross-object finding made while some file did not parse: it points there first, then to its own fix. */
function mayFollowFrom(f: Finding, files: readonly string[]): Finding {
  const where = files.length === 1 ? `the YAML syntax error in ${files[0]}` : `the YAML syntax errors in ${files.join(', ')}`;
  return {
    ...f,
    message: `${f.message.replace(/\.?$/, '.')} This may be a consequence of ${where}: a document that does not parse is not read, so what it declares counts as missing.`,
    fix: `Fix ${where} first and validate again; if this finding remains: ${f.fix}`,
  };
}

function summarize(ctx: ValidationContext, findings: readonly Finding[]): ValidationSummary {
  const objects: Record<string, number> = {};
  for (const r of ctx.resources) {
    const kind = r.kind === 'Allowlist' ? 'allowlist ConfigMap' : r.kind;
    objects[kind] = (objects[kind] ?? 0) + 1;
  }
  for (const s of ctx.allServers) if (s.template) objects[`${s.ref.kind} pod template`] = (objects[`${s.ref.kind} pod template`] ?? 0) + 1;
  const known = ctx.servers.filter((s) => s.served);
  // Sorted, so the same configuration prints the same summary whatever order its objects came in.
  const sorted = sortedByKind(objects);
  return {
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    objects: sorted,
    servers: { total: ctx.servers.length, known: known.length, from: [...new Set(known.map((s) => s.served!.from))].sort() },
    skipped: sortedByKind(ctx.skipped),
  };
}

function sortedByKind(counts: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : a < b ? -1 : 1)));
}
