/** Configuration problems, each located by file, document, object and field so users can fix them. */

/** Where a resource came from: the file, its 1-based document index, and the object it declares. */
export interface SourceLocation {
  file: string;
  /** 1-based index of the YAML document within the file. */
  document: number;
  /**
   * 0-based index in the document's `items` when the document is a `kind: List` (`kubectl get -o yaml`): every
   * object of an export is in document 1, so the item is what tells them apart.
   */
  item?: number;
  kind?: string;
  namespace?: string;
  name?: string;
}

/** One problem with the configuration. `field` is a dotted path such as `spec.targetPorts[0].number`. */
export interface ConfigIssue {
  location: SourceLocation;
  field: string | null;
  message: string;
}

/**
 * Something a reader ignores that the user likely meant (an unknown field): logged, never a reason to refuse.
 * `misroutes`: ignoring it makes the object route other than written (a key inside an HTTPRoute match), so
 * validate reports it as an error.
 */
export interface ConfigWarning extends ConfigIssue {
  misroutes: boolean;
  /**
   * Not an unknown field: a value infergate takes as the field's own implementation does, though it is likely a
   * slip (an empty adapter entry llm-d skips). validate reports it as `config-warning`, not `unknown-field`.
   */
  lenient?: true;
}

export function formatLocation(loc: SourceLocation): string {
  const obj = loc.kind ? ` ${loc.kind} ${loc.namespace ?? 'default'}/${loc.name ?? '<unnamed>'}` : '';
  return `${formatPlace(loc)}${obj}`;
}

/** `file (document 2)`, or `file (document 1, items[3])` inside a `kind: List`; objects from the API server have document 0 and show the file part alone. */
export function formatPlace(loc: Pick<SourceLocation, 'file' | 'document' | 'item'>): string {
  if (loc.document <= 0) return loc.file;
  return `${loc.file} (document ${loc.document}${loc.item !== undefined ? `, items[${loc.item}]` : ''})`;
}

export function formatIssue(issue: ConfigIssue): string {
  const field = issue.field ? ` field ${issue.field}:` : '';
  return `${formatLocation(issue.location)}:${field} ${issue.message}`;
}

/** Thrown when a configuration cannot be used; carries every issue found, not just the first. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(`invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` + issues.map((i) => '  - ' + formatIssue(i)).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
