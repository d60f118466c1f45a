import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topLevelMemberSpan } from './json-member-span.js';

test('topLevelMemberSpan: the value of a top-level member, never a nested one', () => {
  const cases: { body: string; value: string | undefined }[] = [
    { body: '{"a":1,"k":{"x":[1,{"k":2}]},"b":2}', value: '{"x":[1,{"k":2}]}' },
    { body: '{"k":"v"}', value: '"v"' },
    { body: '{ "k" : null }', value: 'null' },
    { body: '{"k":-1.5e3,"z":true}', value: '-1.5e3' },
    { body: '{"k":1,"k":[2]}', value: '[2]' },
    { body: '{"n":{"k":1},"m":["k",{"k":2}]}', value: undefined },
    { body: '{"s":"a \\"k\\": 1 \\\\","k":true}', value: 'true' },
    { body: '{"\\u006b":"escaped name"}', value: '"escaped name"' },
    { body: '{}', value: undefined },
    { body: '[{"k":1}]', value: undefined },
    { body: '{"k":"unterminated', value: undefined },
  ];
  for (const c of cases) {
    const b = Buffer.from(c.body);
    const span = topLevelMemberSpan(b, 'k');
    assert.equal(span === undefined ? undefined : b.toString('utf8', span.start, span.end), c.value, c.body);
  }
});
