/** Builds config snapshots from typed resources for tests: `snapshot(inferencePool('p').selects({...}), pod('a')...ready())`. */
import type { Resource } from '../api/resource.js';
import { buildSnapshot, type ConfigSnapshot, type SnapshotOptions } from './snapshot.js';

/** A validated snapshot of these resources; throws ConfigError as a reload would. */
export function snapshot(...resources: Resource[]): ConfigSnapshot {
  return buildSnapshot(resources);
}

/** Like snapshot(), with options such as the gateway name. */
export function snapshotWith(options: SnapshotOptions, ...resources: Resource[]): ConfigSnapshot {
  return buildSnapshot(resources, options);
}
