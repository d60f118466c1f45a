import { test } from 'node:test';
import assert from 'node:assert/strict';
import { portClash } from './port-clash.js';

test('portClash: the first two listeners on one port and address; port 0 and other addresses never clash', () => {
  const on = (flag: string, port: number, host = '127.0.0.1') => ({ flag, host, port });
  const cases: { name: string; listeners: ReturnType<typeof on>[]; want: string | undefined }[] = [
    { name: 'all different', listeners: [on('--bbr-port', 9004), on('--epp-port', 9002), on('--health-port', 9003), on('--admin-port', 9090)], want: undefined },
    { name: 'bbr and admin', listeners: [on('--bbr-port', 9090), on('--epp-port', 9002), on('--admin-port', 9090)], want: 'error: --bbr-port and --admin-port are both 9090 on 127.0.0.1: give each listener a port of its own' },
    { name: 'epp and health', listeners: [on('--bbr-port', 9004), on('--epp-port', 9003), on('--health-port', 9003)], want: 'error: --epp-port and --health-port are both 9003 on 127.0.0.1: give each listener a port of its own' },
    { name: 'both 0', listeners: [on('--bbr-port', 0), on('--admin-port', 0)], want: undefined },
    { name: 'another address', listeners: [on('--bbr-port', 9090), on('--admin-port', 9090, '127.0.0.2')], want: undefined },
  ];
  for (const c of cases) assert.equal(portClash(c.listeners), c.want, c.name);
});
