/**
 * What reading a stream as it passes costs: the ResponseTap (token events, time to first token, the usage at the
 * end) over a 500-event chat stream, one chunk per event as vLLM sends them. A program, not a test: prints
 * nanoseconds per event.
 *
 *   npx tsc -p . && node dist/bench/response-tap.js [--events 500] [--streams 1000]
 */
import { loadavg } from 'node:os';
import { newRequestRecord } from '../src/observability/request-record.js';
import { ResponseTap } from '../src/observability/response-tap.js';
import { benchArgs, positiveFlag } from './lib/bench-args.js';

const { values } = benchArgs({ options: { events: { type: 'string', default: '500' }, streams: { type: 'string', default: '1000' } } });

const EVENTS = positiveFlag(values, 'events');
const STREAMS = positiveFlag(values, 'streams');

const event = (i: number): Buffer =>
  Buffer.from(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"tok${i}"},"logprobs":null,"finish_reason":null}]}\n\n`);
const events = [...Array.from({ length: EVENTS }, (_, i) => event(i)), Buffer.from('data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":500}}\n\ndata: [DONE]\n\n')];

function run(streams: number): void {
  for (let k = 0; k < streams; k++) {
    const r = newRequestRecord('id', 'POST', '/v1/chat/completions', undefined);
    const tap = new ResponseTap(r, 'text/event-stream');
    for (const e of events) tap.chunk(e);
    tap.end();
    if (r.usage?.completionTokens !== 500) throw new Error('the usage was not found');
  }
}

run(Math.max(1, STREAMS >> 2));
const t0 = process.hrtime.bigint();
run(STREAMS);
const ns = Number(process.hrtime.bigint() - t0) / STREAMS / events.length;
console.log(`ResponseTap, ${EVENTS}-event stream, one chunk per event: ${ns.toFixed(0)} ns per event (load average ${loadavg()[0]!.toFixed(1)})`);
