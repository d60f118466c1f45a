/**
 * The runtime floor for the overhead scenario: the least a Node proxy that reads the body must do. It reads the
 * whole body, parses it as JSON (as any body-based router must), and streams it on to one upstream with undici's
 * `stream()` on a `Pool`, the upstream's answer written chunk by chunk into the client response. No routing, no
 * metrics, no headers added. Run as a process: `node node-floor.js --host H --port P --upstream ip:port [--h2c]`.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { h2cOptions } from '../../../src/upstream/h2c.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length']);

function passOn(h: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

const { values } = parseArgs({ options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string' }, upstream: { type: 'string' }, h2c: { type: 'boolean', default: false } } });
// `--h2c`: HTTP/2 cleartext with prior knowledge to the upstream, multiplexed as infergate's h2c pools are.
const H2C = values.h2c === true;
const pool = H2C ? new Pool(`http://${values.upstream!}`, { connections: 128, ...h2cOptions(undefined) }) : new Pool(`http://${values.upstream!}`, { connections: 128 });
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    try {
      JSON.parse(body.toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"body is not JSON","type":"invalid_request_error","param":null,"code":null}}');
      return;
    }
    pool
      .stream({ method: (req.method ?? 'POST') as 'POST', path: req.url ?? '/', headers: passOn(req.headers), body, ...(H2C ? { idempotent: true } : {}) }, ({ statusCode, headers }) => {
        res.writeHead(statusCode, passOn(headers));
        return res;
      })
      .catch((e: Error) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `node floor: ${e.message}`, type: 'server_error', param: null, code: null } }));
        else res.destroy();
      });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port ?? 0), values.host, () => console.log(`node floor on ${values.host}:${values.port} -> ${values.upstream}`));
const stop = (): void => {
  server.close(() => void pool.close().then(() => process.exit(0)));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
