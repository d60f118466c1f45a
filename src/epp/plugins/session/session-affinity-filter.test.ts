/** session-affinity-filter: the session's endpoint alone when it is a candidate, every candidate otherwise. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../../framework/cycle-state.js';
import { NOW, context, endpoint, request } from '../../framework/test-fixtures.js';
import { registerBuiltins } from '../register-builtins.js';
import type { SessionAffinityFilter } from './session-affinity-filter.js';
import { sessionToken } from './session-token.js';

const a = endpoint('10.0.0.1').pod('vllm-a', 'prod').build();
const b = endpoint('10.0.0.2').pod('vllm-b', 'prod').build();
const c = endpoint('10.0.0.3').pod('vllm-c', 'prod').build();
const create = (params: Record<string, unknown> = {}) => registerBuiltins().create('session-affinity-filter', 'f', params) as SessionAffinityFilter;
const at = (headers: Record<string, string>) => ({ ...context(request({ headers })), now: NOW, state: new CycleState() });
const kept = (f: SessionAffinityFilter, headers: Record<string, string>, eps = [a, b, c]) => f.filter(at(headers), eps).map((e) => e.address);

describe('session-affinity-filter', () => {
  test('encoded_endpoint_header (default): the token pins; no token or a gone endpoint keeps every candidate', () => {
    const f = create();
    assert.deepEqual(kept(f, { 'x-session-token': sessionToken(b) }), ['10.0.0.2:8000']);
    assert.deepEqual(kept(f, {}), ['10.0.0.1:8000', '10.0.0.2:8000', '10.0.0.3:8000']);
    assert.deepEqual(kept(f, { 'x-session-token': sessionToken(b) }, [a, c]), ['10.0.0.1:8000', '10.0.0.3:8000'], 'never empty');
    const headers: Record<string, string> = {};
    f.responseHeaders!(at({}), c, (n, v) => (headers[n] = v));
    assert.deepEqual(headers, { 'x-session-token': sessionToken(c) });
  });

  test('session_id: unbound passes through, the pick binds, then the session is pinned; a gone endpoint rebinds', () => {
    const f = create({ strategy: 'session_id' });
    assert.equal(f.responseHeaders, undefined);
    const first = at({ 'x-session-id': 'agent-7' });
    assert.equal(f.filter(first, [a, b, c]).length, 3);
    f.preRequest!(first, c);
    assert.deepEqual(kept(f, { 'x-session-id': 'agent-7' }), ['10.0.0.3:8000']);
    const gone = at({ 'x-session-id': 'agent-7' });
    assert.equal(f.filter(gone, [a, b]).length, 2);
    f.preRequest!(gone, a);
    assert.deepEqual(kept(f, { 'x-session-id': 'agent-7' }), ['10.0.0.1:8000']);
  });
});
