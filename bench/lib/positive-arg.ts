/** The benchmarks' numeric flags: `--name N` from the command line, a positive number, else the default. */

/** The value after `--name` on the command line when it is a positive finite number; otherwise `def`. */
export function positiveArg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : def;
}
