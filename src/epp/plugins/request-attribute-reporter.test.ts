/** request-attribute-reporter: llm-d's config, CEL over usage as llm-d evaluates it, and mistakes caught at load. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { registerBuiltins } from './register-builtins.js';
import type { RequestAttributeReporter } from './request-attribute-reporter.js';

const create = (attributes: unknown) => registerBuiltins().create('request-attribute-reporter', 'cost', { attributes }) as RequestAttributeReporter;
const attr = (expression: string, extra: Record<string, unknown> = {}) => [{ key: { name: 'x-cost' }, expression, ...extra }];
const usage = { prompt_tokens: 17, completion_tokens: 4, total_tokens: 21 };

describe('request-attribute-reporter', () => {
  test("llm-d's example: total tokens under envoy.lb, only when both counts are there", () => {
    const r = create([{ key: { namespace: 'envoy.lb', name: 'x-gateway-inference-request-cost' }, expression: 'usage.prompt_tokens + usage.completion_tokens\n', condition: 'has(usage.prompt_tokens) && has(usage.completion_tokens)' }]);
    assert.deepEqual(r.report(usage), { namespace: 'envoy.lb', name: 'x-gateway-inference-request-cost', value: 21 });
  });

  test('namespace defaults to envoy.lb; a double result is truncated; 0 and a false condition report nothing', () => {
    assert.deepEqual(create(attr('usage.prompt_tokens * 1.5')).report(usage), { namespace: 'envoy.lb', name: 'x-cost', value: 25 });
    assert.deepEqual(create(attr('int(usage.total_tokens) * 2')).report(usage), { namespace: 'envoy.lb', name: 'x-cost', value: 42 });
    assert.equal(create(attr('usage.completion_tokens - 4.0')).report(usage), undefined);
    assert.equal(create(attr('usage.total_tokens', { condition: 'usage.completion_tokens > 100.0' })).report(usage), undefined);
    const cached = create(attr('has(usage.prompt_tokens_details) ? usage.prompt_tokens - usage.prompt_tokens_details.cached_tokens : usage.prompt_tokens'));
    assert.equal(cached.report({ ...usage, prompt_tokens_details: { cached_tokens: 16 } })?.value, 1);
    assert.equal(cached.report(usage)?.value, 17);
  });

  test('mistakes are refused at load with CEL\'s message, not on every response', () => {
    const cases: [unknown, RegExp][] = [
      [attr('usage.prompt_tokens +'), /parameters\.attributes\[0\]\.expression: is not CEL: Unexpected token/],
      [attr('usage.prompt_tokens * 2'), /parameters\.attributes\[0\]\.expression: fails on a usage with every field .*no such overload.*usage's numbers are doubles, as in llm-d \(write 2\.0, not 2\)/],
      [attr('usage.prompt_tokns'), /expression: fails on a usage with every field .*prompt_tokns/],
      [attr('"cheap"'), /expression: must give a number, gave "cheap"/],
      [attr('usage.total_tokens', { condition: 'usage.total_tokens' }), /parameters\.attributes\[0\]\.condition: must give true or false/],
      [[], /parameters\.attributes: must have exactly one entry \(llm-d's rule\), got 0/],
      [[...attr('usage.total_tokens'), ...attr('usage.total_tokens')], /must have exactly one entry \(llm-d's rule\), got 2/],
      [[{ key: {}, expression: 'usage.total_tokens' }], /parameters\.attributes\[0\]\.key\.name: must be a non-empty string/],
      [[{ key: { name: 'x' } }], /parameters\.attributes\[0\]\.expression: must be a CEL expression/],
      [[{ key: { name: 'x', ns: 'a' }, expression: 'usage.total_tokens' }], /parameters\.attributes\[0\]\.key\.ns: unknown field/],
    ];
    for (const [attributes, want] of cases) assert.throws(() => create(attributes), want);
  });
});
