/** What /readyz (and the dashboard's /api/state) say of the Kubernetes watches: which fail, which have not listed. */
import type { Reflector } from './reflector.js';

/** The `kubernetes` entry of /readyz details: the watches failing now. */
export interface KubeWatchProblems {
  failing: { watch: string; error: string; since: string }[];
  effect: string;
}

/** The watches failing now, with the error and since when, and what that means; undefined while none is. */
export function watchProblems(reflectors: readonly Reflector[], inForce: boolean): KubeWatchProblems | undefined {
  const failing = reflectors
    .filter((r) => r.failingSince !== undefined)
    .map((r) => ({ watch: r.description, error: r.lastError ?? 'unknown error', since: new Date(r.failingSince!).toISOString() }));
  if (failing.length === 0) return undefined;
  // Before the first sync nothing is in force: saying it "keeps serving" sent operators looking for traffic.
  const effect = inForce
    ? 'the configuration in force keeps serving; changes made in the cluster meanwhile apply once these watches recover'
    : 'no configuration is in force yet: this replica stays unready until these watches have listed';
  return { failing, effect };
}

/** Which lists are still pending and why. */
export function notReadyReason(reflectors: readonly Reflector[]): string {
  const pending = reflectors.filter((r) => !r.synced);
  if (pending.length === 0) return 'applying the first snapshot from the Kubernetes API';
  return `waiting for the first sync from the Kubernetes API: ${pending.map((r) => `${r.description}${r.lastError ? ` (${r.lastError})` : ''}`).join('; ')}`;
}
