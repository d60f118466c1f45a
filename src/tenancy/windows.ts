/** The fixed windows limits count in: the current minute and the current UTC day, by index, with the time left in each. */

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

export interface Windows {
  /** `floor(now / 1 min)`. */
  readonly minute: number;
  /** `floor(now / 1 day)`: UTC days. */
  readonly day: number;
  /** Milliseconds until the minute's counters start again. */
  readonly minuteResetMs: number;
  readonly dayResetMs: number;
}

export function windowsAt(now: number): Windows {
  const minute = Math.floor(now / MINUTE_MS);
  const day = Math.floor(now / DAY_MS);
  return { minute, day, minuteResetMs: (minute + 1) * MINUTE_MS - now, dayResetMs: (day + 1) * DAY_MS - now };
}
