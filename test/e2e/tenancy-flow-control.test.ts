/**
 * `--api-keys` with flow control: the gateway's own refusals after a request was admitted for its tenant (a
 * flow-control 429 or 503) carry the tenant's x-ratelimit-* headers, as every answer to a key with limits does,
 * and give back the request they were counted as.
 * Simulated pods on 127.0.240.x, the gateway on 127.0.241.20.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { onePerEndpoint } from '../helpers/epp-configs.js';
import { withFleetGateway } from '../helpers/fleet-gateway.js';
import { baseModelRouteYaml, podYaml, poolYaml, waitFor } from '../helpers/fleet.js';
import { testTenancy } from '../helpers/tenancy.js';

const M = 'model/fc';
const EPP = onePerEndpoint('defaultRequestTTL: 300ms');

test('a flow-control refusal of an admitted request carries the tenant x-ratelimit-* headers and gives its request back', async () => {
  const keysDir = await mkdtemp(join(tmpdir(), 'infergate-keys-'));
  try {
    const tenancy = await testTenancy(keysDir, [{ key: 'ig-a', name: 'team-a', models: ['*'], extra: { requestsPerMinute: 100, tokensPerMinute: 100_000 } }]);
    const replicas = [{ name: 'p0', labels: {}, model: M, ttftMs: 0, itlMs: 20, maxNumSeqs: 1 }];
    const docs = (f: { ipOf(n: string): string; port: number }): string[] => [podYaml('p0', f.ipOf('p0'), { app: 'fc' }), poolYaml('pool', { app: 'fc' }, f.port), baseModelRouteYaml('r', M, [['pool', 1]])];
    await withFleetGateway(
      240,
      replicas,
      docs,
      async ({ gw }) => {
        const send = (maxTokens: number) =>
          request(`${gw.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: 'Bearer ig-a', 'content-type': 'application/json' },
            body: JSON.stringify({ model: M, messages: [{ role: 'user', content: 'hi' }], max_tokens: maxTokens }),
          });
        const hold = send(60);
        const state = async (): Promise<number> => ((await (await fetch(`${gw.adminUrl}/debug/flow-control`)).json()) as { pools: { inFlight: number }[] }).pools[0]?.inFlight ?? 0;
        assert.ok(await waitFor(async () => (await state()) === 1, 3000), 'the first request holds the only slot');
        const late = await send(1);
        const body = (await late.body.json()) as { error: { code: string } };
        assert.equal(late.statusCode, 429);
        assert.equal(body.error.code, 'request_queue_timeout');
        assert.equal(late.headers['x-llm-d-request-dropped-reason'], 'rejected-ttl-expired');
        assert.equal(late.headers['retry-after'], '1');
        assert.equal(late.headers['x-ratelimit-limit-requests'], '100');
        // Refused before any pod was tried, it is given back: the headers count only the request holding the slot.
        assert.equal(late.headers['x-ratelimit-remaining-requests'], '99');
        assert.equal(late.headers['x-ratelimit-limit-tokens'], '100000');
        const ok = await hold;
        await ok.body.text();
        assert.equal(ok.statusCode, 200);
        assert.equal(ok.headers['x-ratelimit-limit-requests'], '100');
        // The refused request never reached a pod: its request is given back (the next one sees 99 - 1 = 98 left).
        const after = await send(1);
        await after.body.text();
        assert.equal(after.statusCode, 200);
        assert.equal(after.headers['x-ratelimit-remaining-requests'], '98');
      },
      { tenancy, host: '127.0.241.20', eppConfig: { text: EPP, file: 'flow-control.yaml' } },
    );
  } finally {
    await rm(keysDir, { recursive: true, force: true });
  }
});
