/** header-profile-handler: the profile a request header names, the default without it, 400 for a name no profile has. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../framework/cycle-state.js';
import { Scheduler } from '../framework/scheduler.js';
import { NOW, context, endpoint, request } from '../framework/test-fixtures.js';
import { loadEndpointPickerConfig } from '../config/load-endpoint-picker-config.js';
import { GatewayError } from '../../errors.js';
import { registerBuiltins } from './register-builtins.js';

const ROLE = 'llm-d.ai/role';
const fleet = ['encode', 'prefill', 'decode'].map((role, i) => endpoint(`10.3.0.${i + 1}`).labels({ [ROLE]: role }).build());

const config = (handler: string, profiles = ['encode', 'prefill', 'decode']) => `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: encode-filter
- type: prefill-filter
- type: decode-filter
${handler}
schedulingProfiles:
${profiles.map((p) => `- name: ${p}\n  plugins: [{pluginRef: ${p}-filter}]`).join('\n')}
`;

function load(text: string) {
  const loaded = loadEndpointPickerConfig(text, { file: 'h.yaml', registry: registerBuiltins(), implicitServedModelFilter: false });
  return { scheduler: new Scheduler(loaded.schedulerConfig), warnings: loaded.warnings };
}

const pick = (scheduler: Scheduler, headers: Record<string, string>) => {
  const r = scheduler.schedule({ ...context(request({ headers })), now: NOW, state: new CycleState() }, fleet);
  return `${r.primaryProfile} ${r.endpoint?.address}`;
};

describe('header-profile-handler', () => {
  test('EPP-Profile names the one profile that runs; without it, decode', () => {
    const { scheduler, warnings } = load(config('- type: header-profile-handler'));
    assert.deepEqual(warnings, []);
    assert.equal(pick(scheduler, { 'epp-profile': 'prefill' }), 'prefill 10.3.0.2:8000');
    assert.equal(pick(scheduler, { 'epp-profile': 'encode' }), 'encode 10.3.0.1:8000');
    assert.equal(pick(scheduler, {}), 'decode 10.3.0.3:8000');
    assert.equal(pick(scheduler, { 'epp-profile': '  ' }), 'decode 10.3.0.3:8000', 'blank is missing');
  });

  test('a name no profile has is the caller\'s mistake: 400 naming the header and the profiles', () => {
    const { scheduler } = load(config('- type: header-profile-handler'));
    assert.throws(
      () => pick(scheduler, { 'epp-profile': 'Prefill' }),
      (e: unknown) => e instanceof GatewayError && e.status === 400 && e.param === 'epp-profile' && /"Prefill" names no scheduling profile .*; profiles: encode, prefill, decode/.test(e.message),
    );
  });

  test('headerName and defaultProfile; a defaultProfile no profile has loads with a warning and fails requests without the header', () => {
    const { scheduler } = load(config('- type: header-profile-handler\n  parameters: {headerName: X-Stage, defaultProfile: prefill}'));
    assert.equal(pick(scheduler, { 'x-stage': 'encode' }), 'encode 10.3.0.1:8000');
    assert.equal(pick(scheduler, {}), 'prefill 10.3.0.2:8000');
    const missing = load(config('- type: header-profile-handler', ['encode', 'prefill']));
    assert.deepEqual(missing.warnings.slice(1), ['h.yaml: plugins[3] (header-profile-handler): defaultProfile "decode" names no scheduling profile (encode, prefill): a request without the epp-profile header gets 400']);
    assert.throws(() => pick(missing.scheduler, {}), /has no epp-profile header and the default profile "decode"/);
  });

  test('with one profile it always runs, whatever the header says', () => {
    const { scheduler } = load(config('- type: header-profile-handler', ['prefill']));
    assert.equal(pick(scheduler, { 'epp-profile': 'decode' }), 'prefill 10.3.0.2:8000');
    assert.throws(() => registerBuiltins().create('header-profile-handler', 'h', { headerName: 'a b' }), /parameters\.headerName: must be an HTTP header name/);
  });
});
