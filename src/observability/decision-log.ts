/** The last N scheduling decisions of live traffic, with every plugin's scores, for `GET /debug/scheduling`. */
import { createHmac, randomBytes } from 'node:crypto';
import type { CycleTrace } from '../epp/framework/run-cycle.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface Decision {
  time: string;
  /** The request's id, or `h:` and a keyed hash of it unless the log shows ids (`--debug-show-request-ids`). */
  requestId: string;
  pool: string;
  model: string | null;
  priority: number;
  /** The endpoint the request was sent to, or null when none was picked. */
  picked: string | null;
  /** One trace per scheduling profile that ran (filters, each scorer's raw scores, totals). */
  profiles: CycleTrace[];
  /** Endpoints of the pool left out before scheduling, and why (tried, not serving the model, backed off, ejected). */
  excluded?: Record<string, string>;
  error?: string;
}

export interface DecisionLogOptions {
  /** Keep request ids as sent. Off by default: ids often name users (`alice@example.com-session-42`). */
  showRequestIds?: boolean;
  /** The hash key; a random one per process by default, so hashes cannot be computed outside it. */
  key?: Buffer;
}

/** A fixed-size ring: recording is O(1) and the memory bound is N decisions. */
export class DecisionLog {
  readonly capacity: number;
  readonly showRequestIds: boolean;
  #ring: (Decision | undefined)[];
  #next = 0;
  readonly #key: Buffer;

  constructor(capacity: number, options: DecisionLogOptions = {}) {
    this.capacity = Math.max(0, capacity);
    this.showRequestIds = options.showRequestIds === true;
    this.#key = options.key ?? randomBytes(32);
    this.#ring = new Array<Decision | undefined>(this.capacity);
  }

  get enabled(): boolean {
    return this.capacity > 0;
  }

  /** Records `d`, its request id replaced by the keyed hash unless ids are shown. */
  record(d: Decision): void {
    if (this.capacity === 0) return;
    if (!this.showRequestIds) d.requestId = this.hashId(d.requestId);
    this.#ring[this.#next] = d;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /**
   * How a request id appears in the log: an HMAC, so an operator who knows an id can find its decision
   * (`?request_id=`) while nobody can list or guess the ids of other users' requests.
   */
  hashId(requestId: string): string {
    return `h:${createHmac('sha256', this.#key).update(requestId).digest('hex').slice(0, 20)}`;
  }

  /**
   * The `GET /debug/scheduling` answer. `limit` is the query parameter as sent (every kept decision when absent;
   * else a whole number, or 400 bad_request); `requestId`, when given, keeps only that request's decisions
   * (looked up by its hash).
   */
  report(limit: string | null, requestId?: string | null): { capacity: number; request_ids: 'shown' | 'hashed'; decisions: Decision[] } {
    const max = limit === null ? this.capacity : decisionLimit(limit);
    const want = requestId == null ? undefined : this.showRequestIds ? requestId : this.hashId(requestId);
    const decisions = want === undefined ? this.recent(max) : this.recent().filter((d) => d.requestId === want).slice(0, max);
    return { capacity: this.capacity, request_ids: this.showRequestIds ? 'shown' : 'hashed', decisions };
  }

  /** Newest first, at most `limit`. */
  recent(limit = this.capacity): Decision[] {
    const out: Decision[] = [];
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const d = this.#ring[(this.#next - i + this.capacity) % this.capacity];
      if (d) out.push(d);
    }
    return out;
  }
}

/**
 * `?limit=N`, a whole number. `?limit=` and `?limit=-1` answered no decisions and `?limit=abc` every one, so a
 * typo looked like an empty log or was ignored; they are the client's error, as a bad `?seconds=` of pprof is.
 */
function decisionLimit(raw: string): number {
  const n = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new GatewayError('bad_request', `limit must be a whole number of decisions (0 or more; leave it out for every kept one), got "${raw}"`, 'limit');
  return n;
}

/** The startup warning every server that keeps decisions logs: what the output exposes, and to whom. */
export function warnDebugDecisions(log: Logger, decisions: DecisionLog, where = 'GET /debug/scheduling'): void {
  log.warn(
    `${where} is on: it shows per-request routing data (models, priorities, pod addresses, every plugin's scores, which can tell whether a prompt prefix was sent before) to anyone who can reach it. ` +
      (decisions.showRequestIds ? 'Request ids are shown verbatim (--debug-show-request-ids).' : 'Request ids are shown as keyed hashes; look one up with ?request_id=.'),
    { capacity: decisions.capacity },
  );
}
