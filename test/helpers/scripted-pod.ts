/**
 * A model server whose answers a test scripts, for the failures the simulator does not make: a pod that echoes
 * the gateway's headers, cuts a stream, answers with bytes that are not HTTP, closes the connection unanswered.
 * It answers the gateway's probes as an idle vLLM does (`GET /v1/models` lists its model, `GET /metrics` reports
 * nothing running), and every other request with the script for its path, once the request's body is read.
 * startGatewayOver puts a gateway in front of such pods.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RunningGateway, StartGatewayOptions } from '../../src/cli/start-gateway.js';
import { FakeEngine } from '../../src/epp/fake-engine.js';
import { idleVllmProbes } from '../../src/upstream/hung-pod.js';
import { podYaml, poolYaml, prefixRouteYaml, startTestGateway, tempConfig, waitFor, type TempConfig } from './fleet.js';

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

/** A test gateway in front of scripted pods, and the configuration it reads. */
export interface GatewayOverPods {
  gw: RunningGateway;
  cfg: TempConfig;
}

/**
 * A test gateway (startTestGateway with `opts`) whose one InferencePool `pool` holds `pods`, named `<pool>-0`,
 * `<pool>-1`…, and takes every /v1/ path; it resolves once the gateway lists their model. The pods share a port,
 * the pool's targetPort. The caller closes the gateway, the pods and the configuration.
 */
export async function startGatewayOver(pool: string, pods: readonly ScriptedPod[], opts: Partial<StartGatewayOptions> = {}): Promise<GatewayOverPods> {
  const port = pods[0]!.port;
  assert.ok(pods.every((p) => p.port === port), 'the pods of a pool share its targetPort');
  const docs = [...pods.map((p, i) => podYaml(`${pool}-${i}`, p.host, { app: pool })), poolYaml(pool, { app: pool }, port), prefixRouteYaml('all', '/v1/', pool)];
  const cfg = await tempConfig({ 'all.yaml': docs.join('---\n') });
  let gw: RunningGateway | undefined;
  try {
    gw = await startTestGateway(cfg.dir, opts);
    const running = gw;
    const listed = async (): Promise<boolean> => ((await (await fetch(`${running.url}/v1/models`)).json()) as { data: unknown[] }).data.length > 0;
    assert.ok(await waitFor(listed), 'the model is discovered');
    return { gw, cfg };
  } catch (e) {
    await gw?.close();
    await cfg.remove();
    throw e;
  }
}
