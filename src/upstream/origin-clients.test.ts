/** OriginClients: a Client or a Pool per origin, the same one while asked, closed once unasked for the idle time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, Pool } from 'undici';
import { OriginClients } from './origin-clients.js';

test('one connection gives a Client, more a Pool; HTTP/1.1 and h2c to one origin are apart', async () => {
  const one = new OriginClients({ connections: 1, keepAliveTimeoutMs: 1000 });
  const four = new OriginClients({ connections: 4, keepAliveTimeoutMs: 1000 });
  try {
    assert.ok(one.of('http://127.0.12.20:1', false) instanceof Client);
    assert.ok(four.of('http://127.0.12.20:1', false) instanceof Pool);
    assert.notEqual(four.of('http://127.0.12.20:1', true), four.of('http://127.0.12.20:1', false));
    assert.equal(four.size, 2);
  } finally {
    await Promise.all([one.close(), four.close()]);
  }
});

test('an origin not asked for longer than the idle time loses its dispatcher at the next sweep; one still asked keeps it', async () => {
  const clients = new OriginClients({ connections: 1, keepAliveTimeoutMs: 1000, idleMs: 150, sweepMs: 20 });
  try {
    const gone = clients.of('http://127.0.12.21:1', false) as Client;
    for (let i = 0; i < 8; i++) {
      clients.of('http://127.0.12.22:1', false);
      await delay(30);
    }
    const kept = clients.of('http://127.0.12.22:1', false) as Client;
    assert.equal(clients.size, 1, 'the origin unasked for 240 ms is gone');
    assert.equal(gone.closed, true);
    assert.equal(clients.of('http://127.0.12.22:1', false), kept);
    assert.equal(kept.closed, false);
    assert.notEqual(clients.of('http://127.0.12.21:1', false), gone, 'asked again, it gets a new dispatcher');
  } finally {
    await clients.close();
  }
});
