/** Parsers for numeric CLI flags that fail with a message naming the flag (commander calls them). */
import { InvalidArgumentError } from 'commander';

export function intFlag(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}, got "${value}"`);
    return n;
  };
}
