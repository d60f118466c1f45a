/**
 * One watch response read to its end: newline-delimited JSON events, each checked and handed on, with a bound on
 * silence (no event, no bookmark) after which the watch is presumed dead. Kubernetes' watch protocol:
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
 */
import type { IncomingMessage } from 'node:http';
import { KubeApiError } from './kube-client.js';
import type { KubeObject } from './kube-object.js';

/** A watch event, checked: a bookmark (its resourceVersion, if any) or a change to an object with a name. */
export type WatchEvent = { type: 'BOOKMARK'; resourceVersion: string | undefined } | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject };

/**
 * Reads `res`, calling `onEvent` for each event in order; resolves with how many lines it carried. Rejects with
 * the first event that is malformed or an ERROR (a KubeApiError, 410 Gone among them), or when the watch was
 * silent for `idleMs`; either aborts `abort`. An abort asked for elsewhere (`stopped()` true) ends it quietly.
 */
export function readWatchEvents(res: IncomingMessage, abort: AbortController, idleMs: number, onEvent: (ev: WatchEvent) => void, stopped: () => boolean): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let buffered = '';
    let events = 0;
    let failure: Error | undefined;
    let idle = setTimeout(onIdle, idleMs);
    function onIdle(): void {
      failure = new Error(`the watch was silent for ${idleMs} ms`);
      abort.abort();
    }
    const finish = (): void => {
      clearTimeout(idle);
      if (failure) reject(failure);
      else resolve(events);
    };
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      clearTimeout(idle);
      idle = setTimeout(onIdle, idleMs);
      buffered += chunk;
      let nl: number;
      while (failure === undefined && (nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        try {
          events++;
          onEvent(watchEvent(JSON.parse(line) as { type?: string; object?: KubeObject }));
        } catch (e) {
          failure = e as Error;
          abort.abort();
        }
      }
    });
    res.on('end', finish);
    res.on('error', (e) => {
      // An abort we asked for (stop, idle, a 410 event) is not an error of its own. Node names a connection
      // cut mid-response only "aborted", which says nothing in a log line.
      if (!failure && !stopped()) failure = e.message === 'aborted' ? new Error('the connection to the API server was cut during the watch (aborted)') : e;
      finish();
    });
    res.on('close', finish);
  });
}

/** One decoded line as a WatchEvent; throws on an ERROR event (as a KubeApiError) and on one that is not a watch event. */
function watchEvent(ev: { type?: string; object?: KubeObject }): WatchEvent {
  const obj = ev.object;
  if (!obj || typeof obj !== 'object') throw new Error(`a watch event without an object (type ${ev.type ?? '?'})`);
  if (ev.type === 'ERROR') {
    const s = obj as unknown as { code?: number; reason?: string; message?: string };
    throw new KubeApiError(s.code ?? 500, s.reason, `watch error ${s.code ?? '?'} ${s.reason ?? ''}: ${s.message ?? ''}`);
  }
  if (ev.type === 'BOOKMARK') return { type: 'BOOKMARK', resourceVersion: obj.metadata?.resourceVersion };
  if (!obj.metadata?.name) throw new Error(`a ${ev.type ?? '?'} event without metadata.name`);
  if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') return { type: ev.type, object: obj };
  throw new Error(`unknown watch event type ${ev.type ?? '(none)'}`);
}
