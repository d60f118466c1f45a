/**
 * infergate_config_reloads_total counts each rejected change once, whether the files could not be read (a YAML
 * error) or the gateway refused what they declare (an EndpointPickerConfig that does not build), while requests
 * keep being served by the configuration in force. Simulated pod on 127.0.223.2, gateway on 127.0.223.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { createLogger } from '../../src/logger.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet } from '../helpers/fleet.js';
import { eppConfigMapYaml } from '../../src/config/manifests.js';

const GEMMA = 'google/gemma-2b-it';

let fleet: Fleet;
before(async () => {
  fleet = await startFleet(223, [{ name: 'gemma-0', labels: {}, model: GEMMA, ttftMs: 1, itlMs: 1 }]);
});
after(() => fleet.close());

const BAD_PICKER = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: no-such-scorer
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: no-such-scorer
`;

function config(pickerAnnotation: boolean): string {
  const pool = poolYaml('gemma', { pool: 'gemma' }, fleet.port);
  const annotated = pickerAnnotation ? pool.replace('  namespace: default\n', '  namespace: default\n  annotations: {infergate.io/endpoint-picker-config: picker}\n') : pool;
  return [podYaml('gemma-0', fleet.ipOf('gemma-0'), { pool: 'gemma' }), annotated, baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]]), eppConfigMapYaml('picker', BAD_PICKER)].join('---\n');
}

test('each rejected change counts once in infergate_config_reloads_total: one the gateway refuses to apply, and one whose YAML does not parse', async () => {
  const cfg = await tempConfig({ 'config.yaml': config(false) });
  const lines: string[] = [];
  const gw = await startTestGateway(cfg.dir, { host: '127.0.223.1', log: createLogger('info', (l) => lines.push(l)), fileSettleMs: 50 });
  const rejectedLogged = (): number => lines.filter((l) => / ERROR .*configuration change rejected/.test(l)).length;
  const counted = async (result: 'ok' | 'rejected'): Promise<number> => {
    const m = new RegExp(`^infergate_config_reloads_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(await gw.metrics.registry.metrics());
    return Number(m?.[1]);
  };
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    const version = gw.gateway.state!.snapshot.version;
    // Written beside the file and renamed into place: one change, read whole.
    const replace = async (text: string): Promise<void> => {
      await writeFile(join(cfg.dir, '.config.yaml.tmp'), text);
      await rename(join(cfg.dir, '.config.yaml.tmp'), join(cfg.dir, 'config.yaml'));
    };
    await replace(config(true));
    assert.ok(await waitFor(() => rejectedLogged() > 0, 5000), `the refused picker config was never rejected:\n${lines.join('\n')}`);
    assert.ok(lines.some((l) => /unknown plugin type `no-such-scorer`/.test(l)), lines.join('\n'));
    assert.equal(await counted('rejected'), rejectedLogged(), 'a change the gateway refused to apply is counted once per rejection');

    const before = rejectedLogged();
    await replace('kind: Pod\nmetadata:\n  name: a: b\n');
    assert.ok(await waitFor(() => rejectedLogged() > before, 5000), 'the YAML error was never rejected');
    assert.equal(await counted('rejected'), rejectedLogged(), 'a change whose files do not read is counted once per rejection');
    assert.equal(await counted('ok'), 1, 'only the first load was put in force');
    assert.equal(gw.gateway.state!.snapshot.version, version);
    assert.equal((await client.completions.create({ model: GEMMA, prompt: 'x', max_tokens: 1 })).model, GEMMA, 'the configuration in force still serves');
  } finally {
    await gw.close();
    await cfg.remove();
  }
});
