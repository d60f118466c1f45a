/** Each pool's API key: read from its source, followed when it changes, reported when it cannot be read, never shown. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../api/config-issue.js';
import { inferencePool, pod } from '../api/test-fixtures.js';
import { snapshot } from '../config/test-fixtures.js';
import { Endpoint } from '../epp/datastore/endpoint.js';
import { createLogger } from '../logger.js';
import type { SecretReader } from './read-api-key.js';
import { applyPoolCredential, refusalMessage } from './upstream-auth.js';
import { UpstreamCredentials } from './upstream-credentials.js';

const gemma0 = pod('gemma-0').labels({ app: 'gemma' }).ip('127.0.82.10').ready();
const qwen0 = pod('qwen-0').labels({ app: 'qwen' }).ip('127.0.82.11').ready();
const endpointOf = (p: typeof gemma0): Endpoint => new Endpoint(p, p.podIP!, 8000);

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-keys-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a pool naming a key file: its requests, discovery and scrapes carry it; a pool without one passes the client\'s', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'gemma'), 'sk-gemma-1\n');
  const lines: string[] = [];
  const creds = new UpstreamCredentials({ log: createLogger('debug', (l) => lines.push(l)) });
  const snap = snapshot(inferencePool('gemma').selects({ app: 'gemma' }).annotate({ 'infergate.io/upstream-api-key-file': join(dir, 'gemma') }), inferencePool('qwen').selects({ app: 'qwen' }), gemma0, qwen0);
  await creds.prepare(snap).commit();

  assert.equal(creds.forPool('default/gemma')?.authorization, 'Bearer sk-gemma-1');
  assert.deepEqual(creds.headersFor(endpointOf(gemma0)), { authorization: 'Bearer sk-gemma-1' });
  assert.equal(creds.forPool('default/qwen'), undefined);
  assert.equal(creds.headersFor(endpointOf(qwen0)), undefined);
  assert.equal(creds.poolOf(endpointOf(qwen0)), 'default/qwen', 'a refusal names the pool to set the key on');

  const client = { authorization: 'Bearer client-key', 'content-type': 'application/json' };
  const toGemma = { ...client };
  applyPoolCredential(toGemma, creds.forPool('default/gemma'));
  assert.equal(toGemma.authorization, 'Bearer sk-gemma-1', "the pool's key replaces the client's");
  const toQwen = { ...client };
  applyPoolCredential(toQwen, creds.forPool('default/qwen'));
  assert.deepEqual(toQwen, client, "without a pool key the client's Authorization passes unchanged");

  // Rotated in place, as kubelet updates a mounted Secret: the next read takes the new key.
  await writeFile(join(dir, 'gemma'), 'sk-gemma-2');
  await creds.reload();
  assert.equal(creds.forPool('default/gemma')?.authorization, 'Bearer sk-gemma-2');
  assert.match(lines.join('\n'), /upstream API key changed source="file .*gemma \(annotation infergate\.io\/upstream-api-key-file\)"/);
  assert.doesNotMatch(lines.join('\n'), /sk-gemma/, 'keys never reach the log');
  creds.close();
});

test('a key that cannot be read: none is sent (nor the client\'s), the problem is reported, and a later read recovers', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'missing');
  const creds = new UpstreamCredentials();
  await creds.prepare(snapshot(inferencePool('gemma').selects({ app: 'gemma' }).annotate({ 'infergate.io/upstream-api-key-file': path }), gemma0)).commit();
  const cred = creds.forPool('default/gemma')!;
  assert.equal(cred.authorization, undefined);
  assert.match(cred.error!, /cannot read .*missing: ENOENT \(no such file: is the Secret mounted there\?\)/);
  assert.deepEqual(creds.problems().map((p) => p.pool), ['default/gemma']);
  const headers: Record<string, string> = { authorization: 'Bearer client-key' };
  applyPoolCredential(headers, cred);
  assert.equal(headers.authorization, undefined);
  assert.match(refusalMessage('http://127.0.82.10:8000/v1/models', 401, 'default/gemma', cred), /answered 401 Unauthorized: the API key of InferencePool default\/gemma \(file .*missing .*\) cannot be read, so none was sent/);

  await writeFile(path, 'sk-late');
  await creds.reload();
  assert.equal(creds.forPool('default/gemma')?.authorization, 'Bearer sk-late');
  assert.deepEqual(creds.problems(), []);
  creds.close();
});

test('Secrets: one key is taken as is; several need NAME/KEY; without --kube the message says what to do instead', async () => {
  const secrets: Record<string, Record<string, string>> = { 'llm/one': { token: 'sk-one' }, 'llm/two': { a: 'sk-a', b: 'sk-b' } };
  const readSecret: SecretReader = async (ns, name) => {
    const s = secrets[`${ns}/${name}`];
    if (!s) throw new Error(`Secret ${ns}/${name} not found`);
    return s;
  };
  const pools = [
    inferencePool('one').inNamespace('llm').selects({ app: 'one' }).annotate({ 'infergate.io/upstream-api-key-secret': 'one' }),
    inferencePool('two').inNamespace('llm').selects({ app: 'two' }).annotate({ 'infergate.io/upstream-api-key-secret': 'two' }),
    inferencePool('two-b').inNamespace('llm').selects({ app: 'two' }).annotate({ 'infergate.io/upstream-api-key-secret': 'two/b' }),
    inferencePool('gone').inNamespace('llm').selects({ app: 'gone' }).annotate({ 'infergate.io/upstream-api-key-secret': 'gone' }),
  ];
  const creds = new UpstreamCredentials({ readSecret });
  await creds.prepare(snapshot(...pools)).commit();
  assert.equal(creds.forPool('llm/one')?.authorization, 'Bearer sk-one');
  assert.match(creds.forPool('llm/two')?.error ?? '', /Secret llm\/two has 2 keys \(a, b\); name one as two\/KEY/);
  assert.equal(creds.forPool('llm/two-b')?.authorization, 'Bearer sk-b');
  assert.match(creds.forPool('llm/gone')?.error ?? '', /Secret llm\/gone not found/);

  const files = new UpstreamCredentials();
  await files.prepare(snapshot(pools[0]!)).commit();
  assert.match(files.forPool('llm/one')?.error ?? '', /Secrets are read from the Kubernetes API \(serve --kube\); with -f, mount the Secret as a file and name it with infergate\.io\/upstream-api-key-file/);
});

test('the flag or the environment covers pools without an annotation; a bad annotation rejects a file edit, or is a warning when isolated', async () => {
  const creds = new UpstreamCredentials({ defaultSource: { kind: 'value', value: ' sk-env\n', origin: 'environment variable INFERGATE_UPSTREAM_API_KEY' } });
  await creds.prepare(snapshot(inferencePool('gemma').selects({ app: 'gemma' }), gemma0)).commit();
  assert.equal(creds.forPool('default/gemma')?.authorization, 'Bearer sk-env');

  const bad = snapshot(inferencePool('gemma').selects({ app: 'gemma' }).annotate({ 'infergate.io/upstream-api-key-file': 'relative' }), gemma0);
  assert.throws(() => creds.prepare(bad), (e: unknown) => e instanceof ConfigError && /infergate\.io\/upstream-api-key-file: must be an absolute path/.test(e.message));
  const isolated = creds.prepare(bad, true);
  assert.match(isolated.warnings.join('\n'), /must be an absolute path.*; the pool uses environment variable INFERGATE_UPSTREAM_API_KEY until this is fixed/);
  await isolated.commit();
  assert.equal(creds.forPool('default/gemma')?.authorization, 'Bearer sk-env');
});

test('refusal messages say which key was sent and what to set, never the key', () => {
  const url = 'http://127.0.82.10:8000/v1/models';
  assert.match(refusalMessage(url, 401, 'default/gemma', undefined), /^GET http:\/\/127\.0\.82\.10:8000\/v1\/models answered 401 Unauthorized: the pod requires an API key \(vLLM --api-key or VLLM_API_KEY\) and the gateway sent none \(InferencePool default\/gemma names no key\); set the pool's annotation infergate\.io\/upstream-api-key-file .* or --upstream-api-key-file \/ INFERGATE_UPSTREAM_API_KEY for every pool$/);
  const sent = { pool: 'default/gemma', source: { kind: 'value', value: 'sk-secret', origin: 'environment variable INFERGATE_UPSTREAM_API_KEY' } as const, authorization: 'Bearer sk-secret', headers: { authorization: 'Bearer sk-secret' }, error: undefined };
  const m = refusalMessage(url, 403, 'default/gemma', sent);
  assert.match(m, /answered 403 Forbidden: the pod refused the API key of InferencePool default\/gemma that the gateway sent \(environment variable INFERGATE_UPSTREAM_API_KEY\)/);
  assert.doesNotMatch(m, /sk-secret/);
});
