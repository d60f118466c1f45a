/** Problems with an EndpointPickerConfig, each naming the file, line, plugin or profile, and field. */

export interface EppConfigIssue {
  file: string;
  /** 1-based line of the offending node, when known. */
  line?: number;
  /** `plugins[2] (prefix-cache-scorer)`, `schedulingProfiles[0] (default)`; empty for the top level. */
  where: string;
  /** `parameters.blockSize`, `plugins[1].pluginRef`, `apiVersion`. */
  field: string;
  message: string;
}

/** `epp.yaml:14: plugins[2] (prefix-cache-scorer): parameters.blockSize: must be a positive integer, got "x"` */
export function formatEppIssue(i: EppConfigIssue): string {
  const loc = i.line === undefined ? i.file : `${i.file}:${i.line}`;
  return [loc, i.where, i.field].filter((s) => s !== '').join(': ') + `: ${i.message}`;
}

/** Thrown when a config cannot be used; carries every problem found, not just the first. */
export class EndpointPickerConfigError extends Error {
  readonly issues: readonly EppConfigIssue[];

  constructor(issues: readonly EppConfigIssue[]) {
    const n = issues.length;
    super(
      n === 1 && issues[0]
        ? `invalid EndpointPickerConfig: ${formatEppIssue(issues[0])}`
        : `invalid EndpointPickerConfig (${n} problems):\n` + issues.map((i) => `  - ${formatEppIssue(i)}`).join('\n'),
    );
    this.name = 'EndpointPickerConfigError';
    this.issues = issues;
  }
}
