import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addExternalPickerOptions, externalPickerOptionsOrExit, type ExternalPickerFlags } from './external-picker-options.js';

/** `serve`'s external-picker flags parsed from `args`, as GatewayOptions; throws commander's error for a bad value. */
async function parse(...args: string[]) {
  const cmd = addExternalPickerOptions(new Command().exitOverride().configureOutput({ writeErr: () => undefined }));
  cmd.parse(args, { from: 'user' });
  return (await externalPickerOptionsOrExit(cmd.opts<ExternalPickerFlags>())).externalPickers;
}

test('--epp-response-header-mode: send or skip in any case (Envoy spells them SEND and SKIP); unset leaves the default', async () => {
  assert.deepEqual(await parse(), {});
  assert.deepEqual(await parse('--epp-response-header-mode', 'skip'), { responseHeaderMode: 'SKIP' });
  assert.deepEqual(await parse('--epp-response-header-mode', 'SEND'), { responseHeaderMode: 'SEND' });
  await assert.rejects(parse('--epp-response-header-mode', 'sometimes'), /must be send or skip \(Envoy's response_header_mode\), got "sometimes"/);
});

test('--epp-message-timeout takes a duration of at least 1ms', async () => {
  assert.deepEqual(await parse('--epp-message-timeout', '70s'), { messageTimeoutMs: 70_000 });
  await assert.rejects(parse('--epp-message-timeout', '0s'), /at least 1ms, got "0s"/);
});
