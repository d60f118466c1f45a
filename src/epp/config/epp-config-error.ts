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

/** A path into the config's YAML: `['plugins', 2, 'parameters']`. */
export type YamlPath = readonly (string | number)[];

/** Records an issue found at `path`; the issue carries the line of that path when it is known. */
export type ReportIssue = (path: YamlPath, where: string, field: string, message: string) => void;

/** An issue at `line`, or with no line when that is unknown. */
export function eppIssue(file: string, line: number | undefined, where: string, field: string, message: string): EppConfigIssue {
  return line === undefined ? { file, where, field, message } : { file, line, where, field, message };
}

/** A ReportIssue that appends to `issues`, locating each path with `lineOf`. */
export function issueReporter(file: string, lineOf: (path: YamlPath) => number | undefined, issues: EppConfigIssue[]): ReportIssue {
  return (path, where, field, message) => {
    issues.push(eppIssue(file, lineOf(path), where, field, message));
  };
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
