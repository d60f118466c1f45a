/** A request's fairness ID: the tenant, else llm-d's header, else (with agent-identity) the agent's session, else default-flow. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEndpointPickerConfig } from '../epp/config/load-endpoint-picker-config.js';
import { registerBuiltins } from '../epp/plugins/register-builtins.js';
import { AgentIdentity } from '../epp/plugins/session/agent-identity.js';
import { DEFAULT_FLOW_ID, fairnessIdOf } from './fairness-id.js';

const headers = (h: Record<string, string>) => new Map(Object.entries(h));

test('the order: tenant, x-llm-d-inference-fairness-id (or its x-gateway alias), the agent session, default-flow', () => {
  const agent = new AgentIdentity();
  const claude = { 'x-claude-code-session-id': 'cc-1' };
  assert.equal(fairnessIdOf(headers({ ...claude, 'x-llm-d-inference-fairness-id': 'team-a' }), 'tenant-1', agent), 'tenant-1');
  assert.equal(fairnessIdOf(headers({ ...claude, 'x-llm-d-inference-fairness-id': 'team-a' }), undefined, agent), 'team-a');
  assert.equal(fairnessIdOf(headers({ ...claude, 'x-gateway-inference-fairness-id': 'team-b' }), undefined, agent), 'team-b');
  assert.equal(fairnessIdOf(headers(claude), undefined, agent), 'cc-1');
  assert.equal(fairnessIdOf(headers({ 'session-id': 'codex-1' }), undefined, agent), 'codex-1');
  assert.equal(fairnessIdOf(headers(claude), undefined, undefined), DEFAULT_FLOW_ID, 'without the plugin the agent header means nothing');
  assert.equal(fairnessIdOf(headers({}), undefined, agent), DEFAULT_FLOW_ID);
});

test("a config with flow control and agent-identity hands the plugin to flow control; without the gate it does not matter", () => {
  const text = (gate: string) => `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
${gate}plugins:
- type: agent-identity
  parameters: {additionalSessionHeaders: [x-team-agent]}
- type: queue-scorer
`;
  const load = (t: string) => loadEndpointPickerConfig(t, { file: 'fc.yaml', registry: registerBuiltins(), implicitServedModelFilter: false });
  const on = load(text('featureGates: [flowControl]\n'));
  assert.equal(fairnessIdOf(headers({ 'x-team-agent': 'bot-7' }), undefined, on.flowControl?.agentIdentity), 'bot-7');
  assert.equal(load(text('')).flowControl, undefined);
});
