/**
 * The ext_proc body-based router holds an audio upload (multipart/form-data) to --max-upload-bytes and any other
 * body to --max-body-bytes, as `serve` does, each 413 naming its flag. Driven by a gRPC client replaying Envoy's
 * messages, on 127.0.173.30.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { allowlistYaml } from '../../src/config/manifests.js';
import { ExtProcClient, requestBodyChunks, requestHeaders } from '../../src/extproc/ext-proc-client.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { startTestExtproc } from '../helpers/extproc.js';
import { tempConfig, type TempConfig } from '../helpers/fleet.js';

const HOST = '127.0.173.30';
const WHISPER = 'openai/whisper-large-v3';
const BOUNDARY = 'b0undary';
const FULL_DUPLEX = { protocol: { request: 'FULL_DUPLEX_STREAMED' as const } };

let cfg: TempConfig;
let xp: RunningExtproc;
let client: ExtProcClient;

before(async () => {
  cfg = await tempConfig({ 'allowlists.yaml': allowlistYaml('whisper', WHISPER, []) });
  xp = await startTestExtproc({ configPath: cfg.dir, host: HOST, maxBodyBytes: 1000, maxUploadBytes: 4000 });
  client = new ExtProcClient(`${HOST}:${xp.ports.bbr}`);
});

after(async () => {
  client?.close();
  await xp?.close();
  await cfg?.remove();
});

function form(fileBytes: number): Buffer {
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n`),
    Buffer.alloc(fileBytes, 0x41),
    Buffer.from(`\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\n${WHISPER}\r\n--${BOUNDARY}--\r\n`),
  ]);
}

const UPLOAD = { ':method': 'POST', ':path': '/v1/audio/transcriptions', ':authority': 'gw.example', 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };
const CHAT = { ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'gw.example', 'content-type': 'application/json' };

/** The message of the immediate 413 a stream got, or what it got instead. */
async function tooLarge(headers: Record<string, string>, body: Buffer): Promise<string> {
  const s = client.open().send(requestHeaders(headers, false, FULL_DUPLEX), ...requestBodyChunks(body, 512));
  const r = await s.next();
  s.end();
  const immediate = r.immediate_response;
  assert.ok(immediate?.body, JSON.stringify(r));
  assert.equal(immediate.status?.code, 'PayloadTooLarge');
  return (JSON.parse(immediate.body.toString()) as { error: { message: string } }).error.message;
}

test('an upload over --max-body-bytes but within --max-upload-bytes is routed by its model field', async () => {
  const body = form(2000);
  const s = client.open().send(requestHeaders(UPLOAD, false, FULL_DUPLEX), ...requestBodyChunks(body, 512));
  const r = await s.next();
  s.end();
  const set = r.request_headers?.response?.header_mutation?.set_headers ?? [];
  const base = set.find((h) => h.header?.key === 'x-gateway-base-model-name');
  assert.equal(base?.header?.raw_value?.toString(), WHISPER, JSON.stringify(r));
});

test('an upload over --max-upload-bytes, and a JSON body over --max-body-bytes, are 413s naming their flag', async () => {
  assert.equal(await tooLarge(UPLOAD, form(5000)), `request body exceeds the gateway's limit of 4000 bytes (--max-upload-bytes, for multipart/form-data uploads)`);
  const declared = form(5000);
  assert.equal(await tooLarge({ ...UPLOAD, 'content-length': String(declared.length) }, declared), `request body of ${declared.length} bytes exceeds the gateway's limit of 4000 bytes (--max-upload-bytes, for multipart/form-data uploads)`);
  const json = Buffer.from(JSON.stringify({ model: WHISPER, prompt: 'x'.repeat(2000) }));
  assert.equal(await tooLarge(CHAT, json), `request body exceeds the gateway's limit of 1000 bytes (--max-body-bytes)`);
});
