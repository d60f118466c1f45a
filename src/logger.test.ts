import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  it('text: time, level and message, then key=value fields (JSON where a value needs it)', () => {
    const lines: string[] = [];
    createLogger('info', (l) => lines.push(l)).warn('pod left', { pod: 'gemma-0', reason: 'not ready', n: 3, skipped: undefined });
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z WARN {2}pod left pod=gemma-0 reason="not ready" n=3$/);
  });

  it('json: one object a line, the fields beside time, level and msg, with their JSON types', () => {
    const lines: string[] = [];
    const log = createLogger('info', (l) => lines.push(l), 'json');
    log.info('tracing on', { url: 'http://c:4318/v1/traces', port: 4318, ok: true, list: ['a'], nested: { a: 1 }, skipped: undefined });
    log.debug('below the level');
    assert.equal(lines.length, 1);
    const o = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(o), ['time', 'level', 'msg', 'url', 'port', 'ok', 'list', 'nested']);
    assert.ok(!Number.isNaN(Date.parse(o.time as string)));
    assert.equal(o.level, 'info');
    assert.equal(o.msg, 'tracing on');
    assert.equal(o.port, 4318);
    assert.equal(o.ok, true);
    assert.deepEqual(o.list, ['a']);
    assert.deepEqual(o.nested, { a: 1 });
  });

  it('json: a message or value with quotes and newlines stays one line; a field named like the line\'s own keys is kept apart', () => {
    const lines: string[] = [];
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    createLogger('debug', (l) => lines.push(l), 'json').error('request failed: "x"\nat y', { msg: 'inner', level: 'x', stack: 'a\nb', big: 10n, cyclic });
    assert.equal(lines.length, 1);
    assert.doesNotMatch(lines[0]!, /\n/);
    const o = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(o.msg, 'request failed: "x"\nat y');
    assert.equal(o.level, 'error');
    assert.equal(o.field_msg, 'inner');
    assert.equal(o.field_level, 'x');
    assert.equal(o.stack, 'a\nb');
    assert.equal(o.big, '10', 'a BigInt is written as its string');
    assert.equal(o.cyclic, '[object Object]', 'a value JSON cannot hold is written as its string');
  });
});
