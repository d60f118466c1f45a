/** multipartModel: the `model` form field of an audio upload, found by its boundaries; the 400s for bodies without one. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../errors.js';
import { withModel, type ModelFieldError } from './extract-model.js';
import { boundaryOf, isMultipart, multipartModel } from './multipart-model.js';

const B = 'form-boundary-7MA4YWxkTrZu0gW';
const CT = `multipart/form-data; boundary=${B}`;

/** A form as clients send it: each field a part, a file part with binary bytes. */
function form(fields: [name: string, value: string | Buffer, filename?: string][], boundary = B): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value, filename] of fields) {
    const disposition = `Content-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}`;
    const type = filename ? '\r\nContent-Type: audio/wav' : '';
    parts.push(Buffer.from(`--${boundary}\r\n${disposition}${type}\r\n\r\n`), Buffer.isBuffer(value) ? value : Buffer.from(value), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(parts);
}

/** Binary audio that contains CRLFs, dashes and the text `model`, none of which is a boundary. */
const AUDIO = Buffer.concat([Buffer.from([0x52, 0x49, 0x46, 0x46, 0x0d, 0x0a, 0x2d, 0x2d]), Buffer.from('name="model"\r\n\r\n--not-the-boundary'), Buffer.alloc(64, 0xff)]);

describe('isMultipart', () => {
  const cases: [string | undefined, boolean][] = [
    [CT, true],
    ['Multipart/Form-Data; boundary=x', true],
    ['multipart/form-data', true],
    ['application/json', false],
    ['multipart/mixed; boundary=x', false],
    ['text/plain', false],
    [undefined, false],
    ['', false],
  ];
  for (const [ct, want] of cases) test(`${ct ?? 'no Content-Type'} -> ${want}`, () => assert.equal(isMultipart(ct), want));
});

describe('boundaryOf', () => {
  const cases: [string, string | undefined][] = [
    [CT, B],
    ['multipart/form-data; charset=utf-8; boundary="quoted boundary"', 'quoted boundary'],
    ['multipart/form-data;BOUNDARY=abc', 'abc'],
    ['multipart/form-data', undefined],
    [`multipart/form-data; boundary=${'x'.repeat(71)}`, undefined],
  ];
  for (const [ct, want] of cases) test(ct.slice(0, 60), () => assert.equal(boundaryOf(ct), want));
});

describe('multipartModel', () => {
  const cases: { name: string; body: Buffer; ct?: string; model: string; stream?: boolean }[] = [
    { name: 'the SDK order: file first, then model', body: form([['file', AUDIO, 'a.wav'], ['model', 'openai/whisper-large-v3']]), model: 'openai/whisper-large-v3' },
    { name: 'model first', body: form([['model', 'whisper'], ['file', AUDIO, 'a.wav'], ['language', 'en']]), model: 'whisper' },
    { name: 'the last model field wins, as the server reads it', body: form([['model', 'first'], ['file', AUDIO, 'a.wav'], ['model', 'second']]), model: 'second' },
    { name: 'stream=true is read', body: form([['file', AUDIO, 'a.wav'], ['model', 'whisper'], ['stream', 'true']]), model: 'whisper', stream: true },
    // vLLM parses the field as pydantic parses a boolean: 1, yes, on, t, y stream too; false, 0, no do not.
    ...['1', 'yes', 'On', 't', 'Y', 'TRUE'].map((v) => ({ name: `stream=${v} is read as true`, body: form([['model', 'whisper'], ['stream', v]]), model: 'whisper', stream: true })),
    ...['false', '0', 'no', 'maybe'].map((v) => ({ name: `stream=${v} is not`, body: form([['model', 'whisper'], ['stream', v]]), model: 'whisper', stream: false })),
    { name: 'a preamble before the first boundary', body: Buffer.concat([Buffer.from('preamble\r\n'), form([['model', 'whisper']])]), model: 'whisper' },
    { name: 'a quoted boundary', body: form([['model', 'whisper']], 'a b'), ct: 'multipart/form-data; boundary="a b"', model: 'whisper' },
    { name: 'a name with surrounding spaces is trimmed', body: form([['model', '  whisper  ']]), model: 'whisper' },
    { name: 'a UTF-8 model name', body: form([['model', 'modèle-é']]), model: 'modèle-é' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const parsed = multipartModel(c.body, c.ct ?? CT);
      assert.equal(parsed.model, c.model);
      assert.equal(parsed.format, 'multipart');
      assert.equal(parsed.json.stream === true, c.stream === true);
      // The span is the field's raw value, in place.
      assert.equal(c.body.toString('utf8', parsed.modelSpan!.start, parsed.modelSpan!.end).trim(), c.model);
    });
  }

  test('a rewrite splices the new name into the bytes: the file part is untouched and the form still parses', () => {
    const body = form([['file', AUDIO, 'a.wav'], ['model', ' alias ']]);
    const parsed = multipartModel(body, CT);
    const out = withModel(body, parsed, 'openai/whisper-large-v3');
    assert.equal(multipartModel(out, CT).model, 'openai/whisper-large-v3');
    assert.ok(out.includes(AUDIO));
    assert.equal(out.length, body.length - ' alias '.length + 'openai/whisper-large-v3'.length);
  });

  const refused: { name: string; body: Buffer; ct?: string; code: string; message: RegExp; problem?: 'not_found' | 'empty' }[] = [
    { name: 'no model field', body: form([['file', AUDIO, 'a.wav'], ['language', 'en']]), code: 'missing_model', problem: 'not_found', message: /multipart\/form-data body has no `model` field/ },
    { name: 'an empty model field', body: form([['model', '  ']]), code: 'missing_model', problem: 'empty', message: /the `model` form field is empty/ },
    { name: 'a filename= parameter is not a name=', body: form([['file', AUDIO, 'model']]), code: 'missing_model', problem: 'not_found', message: /has no `model` field/ },
    { name: 'no boundary parameter', body: form([['model', 'whisper']]), ct: 'multipart/form-data', code: 'bad_request', message: /has no boundary parameter/ },
    { name: 'a boundary that is not in the body', body: form([['model', 'whisper']]), ct: 'multipart/form-data; boundary=other', code: 'bad_request', message: /never occurs in the body/ },
    { name: 'an empty body', body: Buffer.alloc(0), code: 'bad_request', message: /the body is empty/ },
    { name: 'a body cut short', body: form([['file', AUDIO, 'a.wav'], ['model', 'whisper']]).subarray(0, 150), code: 'bad_request', message: /cut short|ends inside/ },
  ];
  for (const c of refused) {
    test(`${c.name} -> ${c.code}`, () => {
      assert.throws(
        () => multipartModel(c.body, c.ct ?? CT),
        (e: unknown) => {
          assert.ok(e instanceof GatewayError);
          assert.equal(e.code, c.code);
          assert.equal(e.status, 400);
          assert.match(e.message, c.message);
          if (c.problem) assert.equal((e as ModelFieldError).problem, c.problem);
          return true;
        },
      );
    });
  }
});
