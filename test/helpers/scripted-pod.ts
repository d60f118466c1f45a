/**
 * A model server whose answers a test scripts, for the failures the simulator does not make: a pod that echoes
 * the gateway's headers, cuts a stream, answers with bytes that are not HTTP, closes the connection unanswered.
 * It answers the gateway's probes as an idle vLLM does (`GET /v1/models` lists its model, `GET /metrics` reports
 * nothing running), and every other request with the script for its path, once the request's body is read.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeEngine } from '../../src/epp/fake-engine.js';
import { idleVllmProbes } from '../../src/upstream/hung-pod.js';

/** Answers one request, whose whole body (UTF-8) is `body`; it may also break the connection off instead. */
export type Script = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface ScriptedPodOptions {
  /** The pod's loopback address. */
  host: string;
  /** 0 (the default) for any free port; a pool's targetPort to stand beside other pods. */
  port?: number;
  /** What `GET /v1/models` lists. */
  model: string;
  /** The script for each path (without its query); a path with none gets vLLM's 404. */
  paths: Record<string, Script>;
}

export interface ScriptedPod {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`. */
  readonly origin: string;
  /** Stops listening and ends the connections still open. */
  close(): Promise<void>;
}

export async function startScriptedPod(opts: ScriptedPodOptions): Promise<ScriptedPod> {
  const engine = new FakeEngine(opts.host);
  const probes = idleVllmProbes(opts.model);
  const scripts = new Map(Object.entries(opts.paths));
  engine.handler = (req, res) => {
    if (probes(req, res)) return;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const script = scripts.get((req.url ?? '/').split('?', 1)[0]!);
      if (script) script(req, res, Buffer.concat(chunks).toString('utf8'));
      else res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
    });
  };
  const port = await engine.listen(opts.port ?? 0);
  return { host: opts.host, port, origin: `http://${opts.host}:${port}`, close: () => engine.close() };
}
