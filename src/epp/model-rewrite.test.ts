import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InferenceModelRewrite, RewriteRule } from '../api/inference-model-rewrite.js';
import { seededRandom } from '../seeded-random.js';
import { rewriteModel } from './model-rewrite.js';

function rewrite(name: string, ...rules: RewriteRule[]): InferenceModelRewrite {
  return { kind: 'InferenceModelRewrite', group: 'llm-d.ai', meta: { name, namespace: 'default', labels: {}, annotations: {} }, source: { file: 't.yaml', document: 1 }, poolKey: 'default/pool', rules };
}
const exact = (model: string, ...targets: [string, number][]): RewriteRule => ({ models: [model], targets: targets.map(([modelRewrite, weight]) => ({ modelRewrite, weight })) });
const all = (...targets: [string, number][]): RewriteRule => ({ models: [], targets: targets.map(([modelRewrite, weight]) => ({ modelRewrite, weight })) });

test('rewriteModel: table', () => {
  const cases: { name: string; rewrites: InferenceModelRewrite[]; model: string; want: string | undefined }[] = [
    { name: 'no rewrites', rewrites: [], model: 'a', want: undefined },
    { name: 'exact alias', rewrites: [rewrite('r', exact('a', ['a-v1', 1]))], model: 'a', want: 'a-v1' },
    { name: 'other model untouched', rewrites: [rewrite('r', exact('a', ['a-v1', 1]))], model: 'b', want: undefined },
    { name: 'match-all catches the rest', rewrites: [rewrite('r', exact('a', ['a-v1', 1]), all(['default', 1]))], model: 'b', want: 'default' },
    { name: 'exact wins over an earlier match-all', rewrites: [rewrite('r1', all(['default', 1])), rewrite('r2', exact('a', ['a-v2', 1]))], model: 'a', want: 'a-v2' },
    { name: 'an exact rule without targets keeps the name, over a match-all rule (llm-d)', rewrites: [rewrite('r', exact('a'), all(['default', 1]))], model: 'a', want: undefined },
    { name: 'weight 0 target never chosen', rewrites: [rewrite('r', exact('a', ['never', 0], ['always', 5]))], model: 'a', want: 'always' },
  ];
  for (const c of cases) assert.equal(rewriteModel(c.rewrites, c.model, () => 0)?.model, c.want, c.name);
});

test('rewriteModel: a 90/10 canary splits 1000 requests within tolerance', () => {
  const rws = [rewrite('canary', exact('m', ['m-v1', 90], ['m-v2', 10]))];
  const random = seededRandom(7);
  let v2 = 0;
  for (let i = 0; i < 1000; i++) if (rewriteModel(rws, 'm', random)?.model === 'm-v2') v2++;
  // Binomial(1000, 0.1): sd 9.5; +/- 40 is over 4 sd.
  assert.ok(v2 > 60 && v2 < 140, `m-v2 got ${v2} of 1000`);
  assert.equal(rewriteModel(rws, 'm', () => 0)?.source, 'InferenceModelRewrite default/canary rule 0');
});

test('rewriteModel: a draw among targets gives the weight chosen and the total (explain says so); a single target, or one left by weight 0, gives none', () => {
  assert.deepEqual(rewriteModel([rewrite('canary', exact('m', ['m-v1', 90], ['m-v2', 10]))], 'm', () => 0.95)?.weight, { of: 10, total: 100 });
  assert.equal(rewriteModel([rewrite('alias', exact('m', ['m-v1', 3]))], 'm', () => 0)?.weight, undefined);
  assert.equal(rewriteModel([rewrite('off', exact('m', ['never', 0], ['m-v1', 5]))], 'm', () => 0)?.weight, undefined);
});
