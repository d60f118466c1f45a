/** PluginRegistry and ParamReader: typed parameters, errors that name the plugin and the parameter. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Plugin } from './plugin.js';
import { ParamReader, PluginConfigError, PluginRegistry } from './registry.js';
import { parseGoDuration } from '../../go-duration.js';

const site = { at: 'plugins[2]', name: 'prefix-cache-scorer', type: 'prefix-cache-scorer' };

function read<T>(params: Record<string, unknown>, get: (r: ParamReader) => T): T {
  return get(new ParamReader(site, params));
}

describe('ParamReader', () => {
  const cases: { name: string; params: Record<string, unknown>; get: (r: ParamReader) => unknown; want?: unknown; error?: string }[] = [
    { name: 'int default', params: {}, get: (r) => r.positiveInt('blockSize', 16), want: 16 },
    { name: 'int given', params: { blockSize: 32 }, get: (r) => r.positiveInt('blockSize', 16), want: 32 },
    { name: 'null means default', params: { blockSize: null }, get: (r) => r.positiveInt('blockSize', 16), want: 16 },
    {
      name: 'string for an int',
      params: { blockSize: 'x' },
      get: (r) => r.positiveInt('blockSize', 16),
      error: 'plugins[2] (prefix-cache-scorer): parameters.blockSize: must be a positive integer, got "x"',
    },
    { name: 'zero for a positive int', params: { n: 0 }, get: (r) => r.positiveInt('n', 1), error: 'parameters.n: must be a positive integer, got 0' },
    { name: 'fraction for an int', params: { n: 1.5 }, get: (r) => r.int('n', 1, { min: 0 }), error: 'parameters.n: must be a non-negative integer, got 1.5' },
    { name: 'int above max', params: { n: 9 }, get: (r) => r.int('n', 1, { max: 8 }), error: 'parameters.n: must be at most 8, got 9' },
    { name: 'number range', params: { f: 1.5 }, get: (r) => r.number('f', 1, { min: 0, max: 1 }), error: 'parameters.f: must be at most 1, got 1.5' },
    { name: 'number above', params: { f: 0 }, get: (r) => r.number('f', 0.8, { above: 0 }), error: 'parameters.f: must be above 0, got 0' },
    { name: 'number as string', params: { f: '1' }, get: (r) => r.number('f', 1), error: 'parameters.f: must be a number, got "1"' },
    { name: 'boolean', params: { b: false }, get: (r) => r.boolean('b', true), want: false },
    { name: 'boolean as string', params: { b: 'true' }, get: (r) => r.boolean('b', true), error: 'parameters.b: must be true or false, got "true"' },
    { name: 'oneOf', params: { m: 'Fail' }, get: (r) => r.oneOf('m', 'Pass', ['Pass', 'Fail']), want: 'Fail' },
    { name: 'oneOf wrong', params: { m: 'fail' }, get: (r) => r.oneOf('m', 'Pass', ['Pass', 'Fail']), error: 'parameters.m: must be one of Pass, Fail, got "fail"' },
    { name: 'duration', params: { d: '1.5s' }, get: (r) => r.durationMs('d', 200), want: 1500 },
    { name: 'duration default', params: {}, get: (r) => r.durationMs('d', 200), want: 200 },
    { name: 'duration as number', params: { d: 200 }, get: (r) => r.durationMs('d', 200), error: 'parameters.d: must be a duration such as "200ms" or "1.5s", got 200' },
    { name: 'duration at the timer limit', params: { d: '596h' }, get: (r) => r.durationMs('d', 200), want: 596 * 3_600_000 },
    { name: 'duration past the timer limit', params: { d: '600h' }, get: (r) => r.durationMs('d', 200), error: 'parameters.d: must be at most 596h (Node.js keeps no timer past 24.8 days), got "600h"' },
    { name: 'string map', params: { m: { a: 'b' } }, get: (r) => r.stringMap('m'), want: { a: 'b' } },
    { name: 'string map value', params: { m: { a: 1 } }, get: (r) => r.stringMap('m'), error: 'parameters.m.a: must be a string, got 1' },
    { name: 'list', params: { l: [1, 2] }, get: (r) => r.list('l', (v) => v), want: [1, 2] },
    { name: 'list not a list', params: { l: { a: 1 } }, get: (r) => r.list('l', (v) => v), error: 'parameters.l: must be a list, got a mapping' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      if (c.error !== undefined) {
        assert.throws(
          () => read(c.params, c.get),
          (e: unknown) => e instanceof PluginConfigError && e.message.endsWith(c.error as string),
        );
      } else assert.deepEqual(read(c.params, c.get), c.want);
    });
  }

  test('finish rejects unknown parameters, listing the known ones and the likely one', () => {
    const r = new ParamReader(site, { lruCapacityPerSrever: 10 });
    r.positiveInt('lruCapacityPerServer', 31250);
    r.positiveInt('blockSizeTokens', 16);
    assert.throws(
      () => r.finish(),
      /^PluginConfigError: plugins\[2\] \(prefix-cache-scorer\): parameters\.lruCapacityPerSrever: unknown parameter \(did you mean lruCapacityPerServer\?\); known parameters: blockSizeTokens, lruCapacityPerServer$/,
    );
  });

  test('a plugin without parameters says so', () => {
    const r = new ParamReader({ at: 'plugins[0]', name: 'q', type: 'queue-scorer' }, { x: 1 });
    assert.throws(() => r.finish(), /plugins\[0\] "q" \(queue-scorer\): parameters\.x: unknown parameter; queue-scorer takes no parameters/);
  });

  test('ignored parameters warn when set', () => {
    const warnings: string[] = [];
    const r = new ParamReader(site, { requestTimeout: '2m' }, (w) => warnings.push(w));
    r.ignored('requestTimeout', 'why');
    r.finish();
    assert.deepEqual(warnings, ['plugins[2] (prefix-cache-scorer): parameters.requestTimeout is ignored: why']);
  });
});

describe('parseGoDuration', () => {
  const cases: [string, number | undefined][] = [
    ['200ms', 200],
    ['1s', 1000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['500us', 0.5],
    ['0', 0],
    ['200', undefined],
    ['ms', undefined],
    ['1 s', undefined],
  ];
  for (const [text, ms] of cases) test(text, () => assert.equal(parseGoDuration(text), ms));
});

describe('PluginRegistry', () => {
  const plugin = (type: string, name: string): Plugin => ({ type, name });
  // Registered out of alphabetical order, so that listing them sorted is the registry's doing.
  const registry = () => new PluginRegistry().register('b-filter', (name) => plugin('b-filter', name)).register('a-scorer', (name, _p, r) => (r.positiveInt('n', 1), plugin('a-scorer', name)));

  test('creates by type with the name given', () => {
    assert.deepEqual(registry().create('a-scorer', 'mine', { n: 2 }), { type: 'a-scorer', name: 'mine' });
  });
  test('lists types, sorted', () => assert.deepEqual(registry().types(), ['a-scorer', 'b-filter']));
  test('unknown type names the registered ones', () => {
    assert.throws(() => registry().create('c-picker', 'c-picker', {}, { at: 'plugins[3]' }), /^PluginConfigError: plugins\[3\] \(c-picker\): type: unknown plugin type `c-picker`; registered types: a-scorer, b-filter$/);
  });
  test('an unknown type near a registered one suggests it', () => {
    assert.throws(() => registry().create('a-scorre', 'a-scorre'), /unknown plugin type `a-scorre` \(did you mean a-scorer\?\); registered types: a-scorer, b-filter$/);
  });
  test('a type marked not built says why, instead of a suggestion', () => {
    const r = registry().notBuilt(['b-filters', 'z-handler'], "another picker's; remove it");
    assert.throws(() => r.create('z-handler', 'z'), /unknown plugin type `z-handler`: another picker's; remove it; registered types: a-scorer, b-filter$/);
    assert.throws(() => r.create('b-filters', 'b'), /`b-filters`: another picker's; remove it;/);
    assert.throws(() => registry().notBuilt(['a-scorer'], 'x'), /registered and marked not built/);
  });
  test('unknown parameters are rejected after the factory ran', () => {
    assert.throws(() => registry().create('b-filter', 'b-filter', { x: 1 }), /parameters\.x: unknown parameter/);
  });
  test('registering a type twice is a programming error', () => {
    assert.throws(() => registry().register('a-scorer', (name) => plugin('a-scorer', name)), /registered twice/);
  });
  test('a factory must build the type and name asked for', () => {
    const r = new PluginRegistry().register('x', () => plugin('y', 'z'));
    assert.throws(() => r.create('x', 'x'), /built y\/z, expected x\/x/);
  });
});
