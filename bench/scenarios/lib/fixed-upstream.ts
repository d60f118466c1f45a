/**
 * An upstream that is never the bottleneck, for the overhead scenario: nginx (one worker) answering every request
 * with a fixed chat completion, or a fixed SSE stream of one, from memory (`return 200 '...'`), so what is measured
 * behind a proxy is the proxy. `/metrics` answers an empty exposition and `/v1/models` lists the model, for the gateway's scraper and discovery.
 */
import type { ChildProcess } from 'node:child_process';
import { startNginxConf } from './nginx-process.js';

const ID = '"id":"chatcmpl-bench","created":1700000000';
const USAGE = '"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}';

/** A whole chat completion, as vLLM answers a non-streamed request. */
export function fixedCompletion(model: string): string {
  return `{${ID},"object":"chat.completion","model":"${model}","choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},"finish_reason":"stop"}],${USAGE}}`;
}

/** The same answer streamed: two token events, the usage event (`stream_options.include_usage`), `[DONE]`. */
export function fixedStream(model: string): string {
  const chunk = (rest: string): string => `data: {${ID},"object":"chat.completion.chunk","model":"${model}",${rest}}\n\n`;
  return (
    chunk('"choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},"finish_reason":null}]') +
    chunk('"choices":[{"index":0,"delta":{"content":"."},"finish_reason":"stop"}]') +
    chunk(`"choices":[],${USAGE}`) +
    'data: [DONE]\n\n'
  );
}

/** What the gateway's discovery asks each pod (`GET /v1/models`), so it learns the model is served here. */
function modelList(model: string): string {
  return `{"object":"list","data":[{"id":"${model}","object":"model","created":1700000000,"owned_by":"vllm","root":"${model}","parent":null,"max_model_len":4096}]}`;
}

/** nginx's quoted-string escapes; `$` would start a variable, and the bodies above have none. */
function nginxQuoted(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/**
 * Starts nginx on `listen` (`host:port`, loopback) answering every path but /metrics, /health and /v1/models with the
 * fixed answer. With `h2cListen`, the same server also listens there for HTTP/2 cleartext with prior knowledge
 * (nginx's `listen ... http2` without `ssl`), for gateways whose pool has `appProtocol: kubernetes.io/h2c`.
 */
export function startFixedUpstream(listen: string, model: string, streamed: boolean, h2cListen?: string): ChildProcess {
  const [type, body] = streamed ? ['text/event-stream', fixedStream(model)] : ['application/json', fixedCompletion(model)];
  return startNginxConf(`upstream-${listen.replace(/[^0-9]/g, '-')}`, `  server {
    listen ${listen};${h2cListen === undefined ? '' : `\n    listen ${h2cListen} http2;`}
    location = /metrics { default_type text/plain; return 200 ''; }
    location = /health { default_type text/plain; return 200 'ok'; }
    location = /v1/models { default_type application/json; return 200 ${nginxQuoted(modelList(model))}; }
    location / { default_type ${type}; return 200 ${nginxQuoted(body)}; }
  }
`);
}
