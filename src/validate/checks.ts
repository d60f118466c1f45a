/** Every check `infergate validate` runs, in one visible list (add a check here to have it run). */
import type { Check } from './check.js';
import { allowlistConflicts } from './checks/allowlist-conflicts.js';
import { eppConfigs } from './checks/epp-configs.js';
import { kvEvents } from './checks/kv-events.js';
import { kubeAccess } from './checks/kube-access.js';
import { objectProblems } from './checks/object-problems.js';
import { objectivesRewrites } from './checks/objectives-rewrites.js';
import { pickerRefs } from './checks/picker-refs.js';
import { poolBaseModels } from './checks/pool-base-models.js';
import { poolServers } from './checks/pool-servers.js';
import { profilePods } from './checks/profile-pods.js';
import { probeFailures } from './checks/probe-failures.js';
import { routeBackends } from './checks/route-backends.js';
import { routeFilters } from './checks/route-filters.js';
import { routeModels } from './checks/route-models.js';
import { routeShadowing } from './checks/route-shadowing.js';
import { snapshotWarnings } from './checks/snapshot-warnings.js';
import { unreadFiles } from './checks/unread-files.js';
import { upstreamKeys } from './checks/upstream-keys.js';

const OWN_CHECKS: readonly Check[] = [
  objectProblems,
  unreadFiles,
  allowlistConflicts,
  routeBackends,
  routeFilters,
  routeModels,
  routeShadowing,
  poolServers,
  poolBaseModels,
  objectivesRewrites,
  eppConfigs,
  profilePods,
  kvEvents,
  pickerRefs,
  upstreamKeys,
  probeFailures,
  kubeAccess,
];

/** The checks in the order they run; the last passes on the snapshot builder's remaining warnings. */
export const CHECKS: readonly Check[] = [...OWN_CHECKS, snapshotWarnings(OWN_CHECKS)];

/** Every finding code, sorted: what the docs list. */
export const FINDING_CODES: readonly string[] = [...new Set(CHECKS.flatMap((c) => c.codes))].sort();
