/** Which client request ids are kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../logger.js';
import { requestIdOf } from './request-id.js';

const log = createLogger('silent');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const cases: [name: string, sent: string | string[] | undefined, want: string | RegExp][] = [
  ['none', undefined, UUID],
  ['a plain id', 'abc-123', 'abc-123'],
  ['two headers, joined by Node', 'a, b', 'a'],
  ['an array', ['x', 'y'], 'x'],
  ['200 characters', 'i'.repeat(200), 'i'.repeat(200)],
  ['201 characters', 'i'.repeat(201), UUID],
  ['5,000 characters', 'i'.repeat(5000), UUID],
  ['a space inside', 'a b', UUID],
  ['a control character', 'a\tb', UUID],
  ['non-ASCII', 'idé', UUID],
  ['empty', '', UUID],
  ['an empty first value', ', b', UUID],
];

for (const [name, sent, want] of cases) {
  test(name, () => {
    const id = requestIdOf(sent, log);
    if (typeof want === 'string') assert.equal(id, want);
    else assert.match(id, want);
  });
}
