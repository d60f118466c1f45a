/** extractModel: the top-level `model` of a JSON body, or the 400 that tells the client what to send. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../errors.js';
import { extractModel } from './extract-model.js';

describe('extractModel', () => {
  const valid: { name: string; body: string; model: string }[] = [
    { name: 'chat request', body: '{"model":"google/gemma-2b-it","messages":[{"role":"user","content":"hi"}]}', model: 'google/gemma-2b-it' },
    { name: 'whitespace trimmed', body: '{"model":"  gemma-sql-lora\\n","prompt":"x"}', model: 'gemma-sql-lora' },
    { name: 'pretty-printed with a BOM-free leading newline', body: '\n{\n  "model": "m"\n}\n', model: 'm' },
    { name: 'unicode model name', body: '{"model":"modèle-ü"}', model: 'modèle-ü' },
  ];
  for (const c of valid) {
    test(c.name, () => {
      const parsed = extractModel(Buffer.from(c.body));
      assert.equal(parsed.model, c.model);
      assert.deepEqual(parsed.json, JSON.parse(c.body));
    });
  }

  const invalid: { name: string; body: string; code: string; param: string | null; message: RegExp }[] = [
    { name: 'not JSON', body: 'model=gemma', code: 'invalid_json', param: null, message: /request body is not valid JSON/ },
    { name: 'truncated JSON', body: '{"model":"gemma"', code: 'invalid_json', param: null, message: /not valid JSON/ },
    { name: 'empty body', body: '', code: 'invalid_json', param: null, message: /not valid JSON/ },
    { name: 'an array body', body: '[{"model":"gemma"}]', code: 'invalid_json', param: null, message: /must be a JSON object/ },
    { name: 'a string body', body: '"gemma"', code: 'invalid_json', param: null, message: /must be a JSON object/ },
    { name: 'null body', body: 'null', code: 'invalid_json', param: null, message: /must be a JSON object/ },
    { name: 'no model', body: '{"messages":[]}', code: 'missing_model', param: 'model', message: /has no "model" field/ },
    { name: 'model a number', body: '{"model":7}', code: 'missing_model', param: 'model', message: /must be a non-empty string, got 7/ },
    { name: 'model null', body: '{"model":null}', code: 'missing_model', param: 'model', message: /got null/ },
    { name: 'model an object', body: '{"model":{"id":"gemma"}}', code: 'missing_model', param: 'model', message: /must be a non-empty string/ },
    { name: 'model blank', body: '{"model":"   "}', code: 'missing_model', param: 'model', message: /must be a non-empty string/ },
    { name: 'model only nested', body: '{"params":{"model":"gemma"}}', code: 'missing_model', param: 'model', message: /has no "model" field/ },
  ];
  for (const c of invalid) {
    test(`${c.name} -> 400 ${c.code}`, () => {
      assert.throws(
        () => extractModel(Buffer.from(c.body)),
        (e: unknown) => {
          assert.ok(e instanceof GatewayError);
          assert.equal(e.status, 400);
          assert.equal(e.code, c.code);
          assert.equal(e.type, 'invalid_request_error');
          assert.equal(e.param, c.param);
          assert.match(e.message, c.message);
          assert.deepEqual(e.toBody(), { error: { message: e.message, type: 'invalid_request_error', param: c.param, code: c.code } });
          return true;
        },
      );
    });
  }
});
