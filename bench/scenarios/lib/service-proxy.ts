/**
 * A model-blind L7 load balancer standing in for a plain Kubernetes Service in benchmarks: it spreads
 * requests over fixed backends round-robin (kube-proxy IPVS) or at random (kube-proxy iptables), never
 * reading the body. Run as a process: `node service-proxy.js --port P --policy round-robin --backend ip:port ...`.
 */
import { createServer, type Server } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { seededRandom } from '../../../src/seeded-random.js';

type ServicePolicy = 'round-robin' | 'random';

function createServiceProxy(backends: readonly string[], policy: ServicePolicy, seed = 1): Server {
  const pools = backends.map((b) => new Pool(`http://${b}`, { connections: 128 }));
  const random = seededRandom(seed);
  let next = 0;
  const server = createServer((req, res) => {
    const i = policy === 'random' ? Math.floor(random() * pools.length) : next++ % pools.length;
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    pools[i]!
      .stream({ method: req.method as 'POST', path: req.url ?? '/', headers, body: req }, ({ statusCode, headers: h }) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(h)) if (v !== undefined && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') out[k] = v;
        out['x-gateway-destination-endpoint-served'] = backends[i]!;
        res.writeHead(statusCode, out);
        res.flushHeaders();
        return res;
      })
      .catch((e: Error) => {
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: `service proxy: ${e.message}`, type: 'server_error', param: null, code: 502 } }));
        } else res.destroy();
      });
  });
  server.on('close', () => void Promise.all(pools.map((p) => p.close())));
  return server;
}

const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, policy: { type: 'string', default: 'round-robin' }, backend: { type: 'string', multiple: true, default: [] } } });
const policy = values.policy === 'random' ? 'random' : 'round-robin';
const server = createServiceProxy(values.backend ?? [], policy);
server.listen(Number(values.port ?? 0), values.host, () => console.log(`service proxy (${policy}) on ${values.host}:${(server.address() as { port: number }).port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
