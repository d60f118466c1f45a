/** namingContentType: the 400 for a body whose model could not be read names the Content-Type the client sent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../errors.js';
import { namingContentType } from './body-content-type.js';
import { ModelFieldError, modelFieldProblem } from './extract-model.js';
import { notJson } from './json-limits.js';

const cases: { name: string; err: GatewayError; contentType: string | undefined; message: RegExp | null }[] = [
  { name: 'not JSON, sent as text/plain', err: notJson("unexpected 'h' at byte 0"), contentType: 'text/plain', message: /not valid JSON .*\. The request's Content-Type is `text\/plain`; the gateway reads `model` from a JSON body \(application\/json\) or from the `model` field of a multipart\/form-data body/ },
  { name: 'not JSON, no Content-Type', err: notJson('the body is empty'), contentType: undefined, message: /\. The request has no Content-Type header; the gateway reads `model`/ },
  { name: 'no model in a JSON body', err: new ModelFieldError('not_found', 'request body has no "model" field'), contentType: 'application/json; charset=utf-8', message: /no "model" field \(Content-Type: application\/json; charset=utf-8\)$/ },
  { name: 'multipart errors name it already', err: new ModelFieldError('not_found', 'the multipart/form-data body has no `model` field'), contentType: 'multipart/form-data; boundary=x', message: null },
  { name: 'other errors pass unchanged', err: new GatewayError('route_not_found', 'no route'), contentType: 'text/plain', message: null },
];

for (const c of cases) {
  test(c.name, () => {
    const out = namingContentType(c.err, c.contentType);
    if (c.message === null) return assert.equal(out, c.err);
    assert.ok(out instanceof GatewayError);
    assert.notEqual(out, c.err);
    assert.equal(out.code, c.err.code);
    assert.equal(out.status, c.err.status);
    assert.match(out.message, c.message);
    // A missing model stays one, for the BBR metrics.
    assert.equal(modelFieldProblem(out), modelFieldProblem(c.err));
  });
}
