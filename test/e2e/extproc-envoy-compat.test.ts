/**
 * What data planes other than the newest Envoy send: no protocol_config (Envoy before 1.34, other data planes),
 * GIE's flag spellings. Envoy's messages replayed over real gRPC on 127.0.245.x; no Envoy binary runs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { allowlistYaml } from '../../src/config/manifests.js';
import { ExtProcClient, requestBody, requestHeaders, responseBody, responseHeaders } from '../../src/extproc/ext-proc-client.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { ended, startTestExtproc } from '../helpers/extproc.js';
import { tempConfig, type TempConfig } from '../helpers/fleet.js';
import { repoRoot } from '../helpers/local-kube.js';

const GEMMA = 'google/gemma-2b-it';
const HOST = '127.0.245.10';
const CHAT = { ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'gw.example', 'content-type': 'application/json' };
const chat = (model: string): string => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });

let cfg: TempConfig;
let xp: RunningExtproc;
let client: ExtProcClient;

before(async () => {
  cfg = await tempConfig({ 'allowlists.yaml': allowlistYaml('gemma', GEMMA, []) });
  xp = await startTestExtproc({ configPath: cfg.dir, host: HOST });
  client = new ExtProcClient(`${HOST}:${xp.ports.bbr}`);
});

after(async () => {
  client?.close();
  await xp?.close();
  await cfg?.remove();
});

describe('without protocol_config', () => {
  test('the response body is assumed FULL_DUPLEX_STREAMED too: every response chunk is sent back', async () => {
    const s = client.open().send(requestHeaders(CHAT, false), requestBody(chat(GEMMA), true));
    assert.equal((await s.next()).response, 'request_headers');
    assert.equal((await s.next()).response, 'request_body');
    s.send(responseHeaders({ ':status': '200' }, false), responseBody('data: one\n\n', false), responseBody('data: [DONE]\n\n', true));
    assert.deepEqual(await s.next(), { response_headers: {}, response: 'response_headers' });
    const chunk = (body: string, eos: boolean): unknown => ({
      response_body: { response: { body_mutation: { streamed_response: eos ? { body: Buffer.from(body), end_of_stream: true } : { body: Buffer.from(body) }, mutation: 'streamed_response' } } },
      response: 'response_body',
    });
    assert.deepEqual(await s.next(), chunk('data: one\n\n', false));
    assert.deepEqual(await s.next(), chunk('data: [DONE]\n\n', true));
    await ended(s);
  });

  test('a data plane that says its response body mode is BUFFERED gets a plain answer', async () => {
    const s = client.open().send(requestHeaders(CHAT, false, { protocol: { request: 'FULL_DUPLEX_STREAMED', response: 'BUFFERED' } }), requestBody(chat(GEMMA), true));
    assert.equal((await s.next()).response, 'request_headers');
    assert.equal((await s.next()).response, 'request_body');
    s.send(responseHeaders({ ':status': '200' }, false), responseBody('{}', true));
    assert.equal((await s.next()).response, 'response_headers');
    assert.deepEqual(await s.next(), { response_body: {}, response: 'response_body' });
    await ended(s);
  });
});

const MAIN = join(repoRoot(), 'dist/src/cli/main.js');
const EPHEMERAL = ['--bbr-port', '0', '--epp-port', '0', '--health-port', '0', '--admin-port', '0'];

/** `infergate extproc` on 127.0.245.11: the TLS the servers report once ready, or the error line the command exits with. */
async function startup(flags: string[]): Promise<string> {
  const p = spawn(process.execPath, [MAIN, 'extproc', '-f', cfg.dir, '--host', '127.0.245.11', ...EPHEMERAL, ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 15_000;
  while (!/ext_proc servers ready/.test(out) && p.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  p.kill('SIGKILL');
  return /tls="([^"]*)"/.exec(out)?.[1] ?? /^error: .*/m.exec(out)?.[0] ?? out;
}

describe('GIE\'s flag spelling', () => {
  test('--secure-serving=false (as GIE\'s and llm-d\'s charts pass it) serves plaintext; true or the bare flag, TLS', async () => {
    assert.equal(await startup(['--secure-serving=false']), 'plaintext (--no-secure-serving)');
    assert.equal(await startup(['--secure-serving', 'false']), 'plaintext (--no-secure-serving)');
    assert.match(await startup(['--secure-serving=true']), /^TLS with a self-signed certificate/);
    assert.match(await startup(['--secure-serving']), /^TLS with a self-signed certificate/);
    assert.match(await startup(['--secure-serving=maybe']), /^error: option '--secure-serving \[bool\]' argument 'maybe' is invalid\. must be true or false/);
  });
});

describe('ports', () => {
  test('a port that cannot be bound names the server, the address and the flag, not only grpc-js\'s words', async () => {
    // Another process's port: the bind fails, and says so.
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.245.11', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      assert.equal(
        await startup(['--no-secure-serving', '--epp-port', String(port)]),
        `error: the EPP ext_proc server cannot listen on 127.0.245.11:${port} (--host, --epp-port): the port is in use by another process (or by this one: give --bbr-port, --epp-port, --health-port and --admin-port different ports)`,
      );
    } finally {
      busy.close();
    }
    // Two of its own flags on one port: said before anything listens.
    assert.equal(await startup(['--no-secure-serving', '--bbr-port', '19402', '--epp-port', '19402']), 'error: --bbr-port and --epp-port are both 19402 on 127.0.245.11: give each listener a port of its own');
  });
});
