/**
 * A rejected edit of the --api-keys file (the last good keys stay in force, so a key meant to be revoked still
 * works) is shown in /readyz under details.api_keys until a good edit loads, as a rejected configuration is.
 * Simulated pods on 127.0.146.x.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { request } from 'undici';
import type { KeyFileSource } from '../../src/tenancy/key-file-source.js';
import { keysYaml, startTenantGateway, type TenantGateway, type TestKey } from '../helpers/tenancy.js';

const KEYS: TestKey[] = [
  { key: 'ig-a', name: 'team-a', models: ['*'] },
  { key: 'ig-b', name: 'team-b', models: ['*'] },
];

let env: TenantGateway;

before(async () => {
  env = await startTenantGateway(146, KEYS);
});

after(() => env?.close());

async function readyz(): Promise<{ status: string; details?: { api_keys?: { rejected?: { message: string } } } }> {
  const r = await request(`${env.gw.url}/readyz`);
  assert.equal(r.statusCode, 200);
  return (await r.body.json()) as { status: string; details?: { api_keys?: { rejected?: { message: string } } } };
}

test('a bad keys edit shows in /readyz details.api_keys while the last good keys serve; a good edit clears it', async () => {
  const source = env.tenancy.keys as KeyFileSource;
  assert.equal((await readyz()).details?.api_keys, undefined);
  // team-b revoked, but with a misspelt field: the edit is rejected and team-b's key still works.
  await writeFile(env.keysFile, keysYaml([KEYS[0]!]).replace('models:', 'modles:'));
  await source.reload();
  assert.equal(source.keys.lookup('ig-b')?.tenant.name, 'team-b');
  const held = await readyz();
  assert.match(held.details?.api_keys?.rejected?.message ?? '', /api-keys\.yaml: keys\[0\]: unknown field "modles"/);
  assert.doesNotMatch(JSON.stringify(held), /sha256:/);
  await writeFile(env.keysFile, keysYaml([KEYS[0]!]));
  await source.reload();
  assert.equal(source.keys.lookup('ig-b'), undefined);
  assert.equal((await readyz()).details?.api_keys, undefined);
});
