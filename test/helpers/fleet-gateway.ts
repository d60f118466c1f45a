/** A standalone gateway in front of simulated pods, for end-to-end tests that need a fresh one: started, handed over, closed. */
import OpenAI from 'openai';
import type { RunningGateway, StartGatewayOptions } from '../../src/cli/start-gateway.js';
import { startFleet, startTestGateway, tempConfig, type Fleet, type Replica } from './fleet.js';

export interface FleetGateway {
  fleet: Fleet;
  gw: RunningGateway;
  /** An OpenAI client of the gateway, without retries: every failure shows. */
  client: OpenAI;
}

/**
 * Starts `replicas` on 127.0.<octet>.x and a gateway reading `docs(fleet)` (YAML documents, one file), runs
 * `body`, then closes the gateway, the pods and the configuration, whether `body` passed or not.
 */
export async function withFleetGateway(
  octet: number,
  replicas: readonly Replica[],
  docs: (fleet: Fleet) => string[],
  body: (t: FleetGateway) => Promise<void>,
  gatewayOptions: Partial<StartGatewayOptions> = {},
): Promise<void> {
  const fleet = await startFleet(octet, replicas);
  const cfg = await tempConfig({ 'all.yaml': docs(fleet).join('---\n') });
  const gw = await startTestGateway(cfg.dir, gatewayOptions);
  try {
    await body({ fleet, gw, client: new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 }) });
  } finally {
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
}
