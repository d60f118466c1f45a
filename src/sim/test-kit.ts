/** Helpers for the simulator's tests: a simulator on the test loopback address, and an SSE reader that timestamps events. */
import type { TestContext } from 'node:test';
import type { RunningSimulator, SimulatorOptions } from './simulator.js';
import { startSimulator } from './simulator.js';

/** Loopback addresses 127.0.10.x are reserved for these tests, so parallel suites never collide. */
const TEST_HOST = '127.0.10.1';

/** Starts a simulator on TEST_HOST, port 0, closed when the test ends. */
export async function testSimulator(t: TestContext, opts: Partial<SimulatorOptions> = {}): Promise<RunningSimulator> {
  const sim = await startSimulator({ model: 'base-model', host: TEST_HOST, port: 0, ...opts });
  t.after(() => sim.close());
  return sim;
}

/** POSTs JSON to the simulator. */
export function postJson(sim: RunningSimulator, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal !== undefined ? { signal } : {}),
  });
}

/** One `data:` event and when it arrived (performance.now()). */
export interface SseEvent {
  readonly data: string;
  readonly at: number;
}

/** Reads an SSE body to its end (or `maxEvents`), stamping each event with the time its bytes arrived. */
export async function readSse(res: Response, maxEvents = 10_000): Promise<SseEvent[]> {
  if (res.body === null) throw new Error('response has no body');
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  while (events.length < maxEvents) {
    const { done, value } = await reader.read();
    if (done) break;
    const at = performance.now();
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      for (const line of buffer.slice(0, end).split('\n')) {
        if (line.startsWith('data: ')) events.push({ data: line.slice('data: '.length), at });
      }
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
    }
  }
  await reader.cancel().catch(() => undefined);
  return events;
}

/** Reads a whole named-event SSE body (Responses and Messages streams): each event's `event:` name ('' for none) and its `data:` text. */
export async function readNamedSse(res: Response): Promise<Array<{ event: string; data: string }>> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice('event: '.length) ?? '';
      return { event, data: lines.find((l) => l.startsWith('data: '))?.slice('data: '.length) ?? '' };
    });
}

/** Polls `check` every few milliseconds until it holds; fails after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The value of one sample in Prometheus text, matched by its full `name{labels}` prefix. */
export function sampleValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
