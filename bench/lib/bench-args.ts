/**
 * A benchmark's flags, read as node:util's parseArgs reads them, with what a user running one expects: `--help`
 * lists the flags with their defaults and exits 0, and a flag it does not know (or one missing its value) ends it
 * with one line naming the flag and exit status 2, not a stack trace.
 */
import { basename, relative } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs over `process.argv`, with `--help` and the one-line error; the same config and result. */
export function benchArgs<const T extends { options: Options }>(config: T, argv: readonly string[] = process.argv): ReturnType<typeof parseArgs<T>> {
  const script = argv[1] ?? 'bench';
  const args = argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage(relative(process.cwd(), script) || script, config.options));
    process.exit(0);
  }
  try {
    // With `args` added the config is still T as far as the result's type goes (parseArgs types it from options).
    return parseArgs({ ...config, args } as T);
  } catch (e) {
    process.stderr.write(`${basename(script)}: ${(e as Error).message.split('\n')[0]!.replace(/\.+$/, '')}. Run it with --help for its flags.\n`);
    process.exit(2);
  }
}

/** The flags, one a line: `--name <value>  default: x`; booleans bare; repeatable ones say so. */
export function usage(script: string, options: Options): string {
  const rows = Object.entries(options).map(([flag, o]) => {
    const head = `--${flag}${o.short ? `, -${o.short}` : ''}${o.type === 'string' ? ' <value>' : ''}`;
    const hasDefault = o.type === 'string' && o.default !== undefined && String(o.default) !== '';
    const notes = [hasDefault ? `default: ${String(o.default)}` : '', o.multiple ? 'repeatable' : ''].filter(Boolean).join('; ');
    return { head, notes };
  });
  const width = Math.max(0, ...rows.map((r) => r.head.length));
  const lines = rows.map((r) => `  ${r.head.padEnd(width)}${r.notes ? `  ${r.notes}` : ''}`.trimEnd());
  return `usage: node ${script} [flags]\nWhat each flag does: the comment at the top of its source under bench/, and docs/benchmarks.md.\n\nflags:\n${lines.join('\n')}\n`;
}

/** A numeric flag's value, which must be a positive number: otherwise the benchmark ends naming the flag (exit 2). */
export function positiveFlag(values: Record<string, unknown>, flag: string, argv: readonly string[] = process.argv): number {
  return numericFlag(values, flag, argv, false);
}

/** As {@link positiveFlag}, 0 allowed: for counts whose 0 means none or off (`--debug-decisions 0`). */
export function nonNegativeFlag(values: Record<string, unknown>, flag: string, argv: readonly string[] = process.argv): number {
  return numericFlag(values, flag, argv, true);
}

function numericFlag(values: Record<string, unknown>, flag: string, argv: readonly string[], zero: boolean): number {
  const raw = values[flag];
  // Number('') is 0: an empty value is no number.
  const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (Number.isFinite(v) && (v > 0 || (zero && v === 0))) return v;
  process.stderr.write(`${basename(argv[1] ?? 'bench')}: --${flag} must be a ${zero ? 'number, 0 or more' : 'positive number'}, not ${JSON.stringify(raw)}. Run it with --help for its flags.\n`);
  process.exit(2);
}
