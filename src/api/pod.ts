/** Pod (v1), reduced to what endpoint discovery needs: labels, IP and readiness. */
import type { FieldReader, Raw } from './field-reader.js';
import type { Located } from './object-meta.js';

export interface Pod extends Located {
  kind: 'Pod';
  /** `status.podIP`; a pod without one has not been scheduled and cannot serve. */
  podIP?: string;
  /** `status.conditions[type=Ready].status == "True"`. */
  ready: boolean;
}

export function readPod(r: FieldReader, raw: Record<string, Raw>, base: Located): Pod {
  const status = r.object(raw.status, 'status') ?? {};
  const podIP = r.string(status.podIP, 'status.podIP');
  let ready = false;
  r.array(status.conditions, 'status.conditions').forEach((c, i) => {
    const cond = r.object(c, `status.conditions[${i}]`);
    if (cond?.type !== 'Ready') return;
    const s = cond.status;
    // YAML 1.1 habits: `status: True` parses as a boolean; Kubernetes writes the string "True".
    ready = s === 'True' || s === true;
    if (s !== 'True' && s !== 'False' && s !== 'Unknown' && typeof s !== 'boolean') {
      r.fail(`status.conditions[${i}].status`, `must be "True", "False" or "Unknown", got ${JSON.stringify(s)}`);
    }
  });
  const pod: Pod = { ...base, kind: 'Pod', ready };
  if (podIP !== undefined && podIP !== '') pod.podIP = podIP;
  return pod;
}
