/** What build is running, for the `*_info{commit, build_ref}` gauges llm-d and GIE export. */
import { readFileSync } from 'node:fs';
import { alpha } from './family.js';
import { GaugeFamily } from './value-family.js';

export interface BuildInfo {
  /** `INFERGATE_COMMIT` as the image build sets it, else `unknown`. */
  commit: string;
  /** `v` and the package version. */
  buildRef: string;
}

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  if (cached) return cached;
  let version = 'unknown';
  // dist/src/observability/metrics/ and src/observability/metrics/ both sit below the package root.
  for (const rel of ['../../../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'infergate' && pkg.version) {
        version = pkg.version;
        break;
      }
    } catch {
      // not this level
    }
  }
  cached = { commit: process.env.INFERGATE_COMMIT || 'unknown', buildRef: version === 'unknown' ? version : `v${version}` };
  return cached;
}

/** `llm_d_epp_info` and its GIE twin `inference_extension_info`: 1, labelled with the build. */
export function infoFamilies(): GaugeFamily[] {
  const b = buildInfo();
  const help = alpha('General information of the current build of Inference Extension.');
  const families = [new GaugeFamily({ name: 'llm_d_epp_info', help, labelNames: ['commit', 'build_ref'] }), new GaugeFamily({ name: 'inference_extension_info', help, labelNames: ['commit', 'build_ref'] })];
  for (const f of families) f.series(b.commit, b.buildRef).set(1);
  return families;
}
