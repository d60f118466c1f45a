/** llm-d's data-layer plugins load unchanged and say what does their work here. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEndpointPickerConfig } from '../config/load-endpoint-picker-config.js';
import { registerBuiltins } from './register-builtins.js';

test("llm-d's models data source and extractor, wired in dataLayer, load with a note each", () => {
  const loaded = loadEndpointPickerConfig(
    `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: models-data-source
  name: vllm-models-source
  parameters:
    scheme: "https"
    insecureSkipVerify: false
    interval: "5s"
- type: models-data-extractor
  name: vllm-models-extractor
- type: queue-scorer
dataLayer:
  sources:
  - pluginRef: vllm-models-source
    extractors:
    - pluginRef: vllm-models-extractor
`,
    { file: 'models.yaml', registry: registerBuiltins(), implicitServedModelFilter: false },
  );
  const notes = loaded.warnings.filter((w) => /has nothing to do here/.test(w));
  assert.equal(notes.length, 2, loaded.warnings.join('\n'));
  assert.match(notes[0]!, /vllm-models-source.*\/v1\/models is polled by the gateway \(--models-refresh-interval\).*its parameters are ignored/);
  assert.match(notes[1]!, /vllm-models-extractor.*kept by the gateway's datastore/);
});
