/** Golden /metrics files for the metrics tests, read from the source tree (the build copies only .ts files). */
import { readFileSync } from 'node:fs';

export type FixtureName = 'vllm-recent.prom' | 'vllm-legacy.prom' | 'sglang.prom' | 'malformed.prom';

/** Compiled tests live in dist/src/epp/metrics/, four levels below the repository root. */
export function readFixture(name: FixtureName): string {
  return readFileSync(new URL(`../../../../src/epp/metrics/fixtures/${name}`, import.meta.url), 'utf8');
}
