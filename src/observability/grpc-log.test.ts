/** grpc-js's own error lines go to infergate's log (and its format), not straight to stderr. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { createLogger } from '../logger.js';
import { routeGrpcLogs } from './grpc-log.js';

test('a gRPC server that cannot bind: grpc-js says so through the log given, as a JSON line with --log-format json', async () => {
  const lines: string[] = [];
  routeGrpcLogs(createLogger('info', (l) => lines.push(l), 'json'));
  const bind = (server: Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => server.bindAsync(`127.0.230.30:${port}`, ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const first = new Server();
  const second = new Server();
  try {
    const port = await bind(first, 0);
    await assert.rejects(bind(second, port));
    const grpc = lines.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.msg.startsWith('grpc: '));
    assert.ok(grpc.some((l) => l.level === 'error' && /No address added/.test(l.msg)), `grpc's error is in the log: ${lines.join('\n')}`);
  } finally {
    first.forceShutdown();
    second.forceShutdown();
  }
});
