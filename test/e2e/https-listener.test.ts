/**
 * `serve --cert-file --key-file`: the traffic port speaks HTTPS to the official openai client (streamed and
 * not), a renewed certificate written over the files reaches new connections without a restart, a pair that does
 * not load leaves the one in force serving, plain HTTP sent to the port gets a 400 saying so, and the connection
 * limits and drain hold over TLS. Loopback 127.0.141.x.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, afterEach, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { Agent } from 'undici';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { selfSignedCertificate, type CertificatePair } from '../../src/extproc/self-signed-certificate.js';
import { createLogger } from '../../src/logger.js';
import { ServingCertificate } from '../../src/proxy/serving-certificate.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';

const MODEL = 'google/gemma-2b-it';
const HOST = '127.0.141.10';

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;
let first: CertificatePair;
const logLines: string[] = [];

const certFile = (): string => join(cfg.dir, 'tls.crt.pem');
const keyFile = (): string => join(cfg.dir, 'tls.key.pem');

/** The fingerprint of the certificate a new TLS connection to the gateway is shown. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: HOST, port, rejectUnauthorized: false }, () => {
      const fp = s.getPeerX509Certificate()?.fingerprint256 ?? '';
      s.end();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

/** Agents the clients made: closed after each test, so their keep-alive connections do not count against the limit. */
const agents: Agent[] = [];

function clientTrusting(pair: CertificatePair): OpenAI {
  // The client's fetch is Node's, which takes an undici dispatcher: one that trusts the self-signed certificate.
  const dispatcher = new Agent({ connect: { ca: pair.cert } });
  agents.push(dispatcher);
  const fetchOptions = { dispatcher } as unknown as NonNullable<ConstructorParameters<typeof OpenAI>[0]>['fetchOptions'];
  return new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0, fetchOptions });
}

before(async () => {
  fleet = await startFleet(141, [{ name: 'gemma-0', labels: {}, model: MODEL, ttftMs: 1, itlMs: 1 }]);
  cfg = await tempConfig({ 'all.yaml': [podYaml('gemma-0', fleet.ipOf('gemma-0'), { app: 'gemma' }), poolYaml('gemma', { app: 'gemma' }, fleet.port), baseModelRouteYaml('gemma', MODEL, [['gemma', 1]])].join('---\n') });
  first = selfSignedCertificate({ commonName: 'infergate-test', altNames: [HOST] });
  // Outside the watched config's .yaml files: the file source reads those alone.
  await writeFile(certFile(), first.cert);
  await writeFile(keyFile(), first.key);
  const tls = new ServingCertificate({ certFile: certFile(), keyFile: keyFile() }, createLogger('info', (l) => logLines.push(l)), { pollMs: 50, settleMs: 100 });
  gw = await startTestGateway(cfg.dir, { host: HOST, tls, connections: { maxConnectionsPerClient: 4 } });
});

/** Set once the last test's shutdown has stopped the gateway (close would stop it twice). */
let stopped = false;

after(async () => {
  if (!stopped) await gw?.close();
  await fleet?.close();
  await cfg?.remove();
});

describe('HTTPS on the traffic port', () => {
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close()));
  });

  it('serves the openai client over TLS, streamed and not; plain HTTP gets a 400 saying to use https://', async () => {
    assert.match(gw.url, /^https:\/\/127\.0\.141\.10:\d+$/);
    const client = clientTrusting(first);
    const whole = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], max_tokens: 3 });
    assert.equal(whole.choices[0]?.finish_reason !== undefined, true);
    let events = 0;
    for await (const _ of await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], max_tokens: 3, stream: true })) events++;
    assert.ok(events >= 3, `a streamed answer: ${events} events`);
    const port = Number(new URL(gw.url).port);
    // Plain HTTP on the TLS port: a 400 in OpenAI's shape saying to use https://, then the connection closes.
    const plain = await fetch(`http://${HOST}:${port}/v1/models`);
    assert.equal(plain.status, 400);
    const body = (await plain.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'bad_request');
    assert.match(body.error.message, /this port speaks HTTPS .*https:\/\//);
    assert.equal(await servedFingerprint(port), new X509Certificate(first.cert).fingerprint256);
  });

  it('the connection limit per client holds over TLS: connections past it get 503 too_many_connections', async () => {
    const port = Number(new URL(gw.url).port);
    // One connection per agent, each kept open by keep-alive; the earlier tests' clients may hold some of the 4.
    const agents = Array.from({ length: 6 }, () => new Agent({ connect: { ca: first.cert }, connections: 1 }));
    try {
      const answers: { status: number; code?: string }[] = [];
      for (const a of agents) {
        const res = await fetch(`https://${HOST}:${port}/healthz`, { dispatcher: a } as unknown as RequestInit);
        const body = (await res.json()) as { error?: { code?: string } };
        answers.push({ status: res.status, ...(body.error?.code ? { code: body.error.code } : {}) });
      }
      const ok = answers.filter((a) => a.status === 200).length;
      assert.ok(ok >= 1 && ok <= 4, `at most 4 connections served: ${JSON.stringify(answers)}`);
      assert.ok(answers.slice(ok).every((a) => a.status === 503 && a.code === 'too_many_connections'), JSON.stringify(answers));
    } finally {
      await Promise.all(agents.map((a) => a.close()));
    }
  });

  it('a renewed certificate written over the files reaches new connections; a pair that does not load keeps the one in force', async () => {
    const port = Number(new URL(gw.url).port);
    const second = selfSignedCertificate({ commonName: 'infergate-test-renewed', altNames: [HOST] });
    await writeFile(certFile(), second.cert);
    await writeFile(keyFile(), second.key);
    const renewed = new X509Certificate(second.cert).fingerprint256;
    assert.ok(await waitFor(async () => (await servedFingerprint(port)) === renewed, 5000), 'new connections get the renewed certificate');
    assert.ok(logLines.some((l) => /TLS certificate reloaded/.test(l)), logLines.join('\n'));
    const done = await clientTrusting(second).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'again' }], max_tokens: 2 });
    assert.ok(done.choices.length > 0);

    // A key that is not the certificate's: logged, and the renewed pair still serves.
    await writeFile(keyFile(), selfSignedCertificate().key);
    assert.ok(await waitFor(() => logLines.some((l) => /ERROR .*TLS certificate was not reloaded; the one in force still serves/.test(l)), 5000), logLines.join('\n'));
    assert.equal(await servedFingerprint(port), renewed);
  });

  // Last: it stops the gateway.
  it('a graceful shutdown drains over TLS: a stream in flight finishes with [DONE], then the gateway reports drained', async () => {
    // The renewed certificate is in force by now; this client does not check which.
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
    agents.push(dispatcher);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0, fetchOptions: { dispatcher } as unknown as NonNullable<ConstructorParameters<typeof OpenAI>[0]>['fetchOptions'] });
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'a long answer' }], max_tokens: 200, stream: true });
    const shutdown = gw.shutdown({ delayMs: 0, drainTimeoutMs: 10_000 });
    let chunks = 0;
    let finished: string | null | undefined;
    for await (const c of stream) {
      chunks++;
      finished = c.choices[0]?.finish_reason ?? finished;
    }
    const report = await shutdown;
    stopped = true;
    assert.ok(chunks > 10 && finished !== undefined && finished !== null, `the stream ran to its end: ${chunks} chunks, finish_reason ${finished}`);
    assert.equal(report.outcome, 'drained');
    assert.ok(report.inFlightAtDrain >= 1, `the stream was counted in flight over TLS: ${JSON.stringify(report)}`);
  });
});
