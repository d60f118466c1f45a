/**
 * The headers a pick's profile handler adds to the upstream request (llm-d's P/D: the prefill pod for the decode
 * pod's routing sidecar), applied per attempt: each attempt's pick replaces the last one's.
 */

type PickHeaders = Readonly<Record<string, string | undefined>>;

/**
 * Sets the pick's headers on `headers` (a name mapped to undefined is removed); a pick without any (a FailOpen
 * endpoint after a scheduler failure) removes those the `last` pick set, so no attempt carries another's prefill
 * pod. Returns what to pass as `last` for the next attempt.
 */
export function applyPickHeaders(headers: Record<string, string | string[]>, extra: PickHeaders | undefined, last: PickHeaders | undefined): PickHeaders | undefined {
  if (extra !== undefined) {
    for (const name in extra) {
      const v = extra[name];
      if (v === undefined) delete headers[name];
      else headers[name] = v;
    }
  } else if (last !== undefined) {
    for (const name in last) delete headers[name];
  }
  return extra;
}
