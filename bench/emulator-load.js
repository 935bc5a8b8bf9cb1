#!/usr/bin/env node
// How many requests per second the emulator serves on this machine: 64 keep-alive loops for a
// bounded time against GET /api/v2/organizations/me on 127.0.0.1. Not a test; the figure goes
// in crates/emulator/README.md. Usage: node bench/emulator-load.js [seconds=5] [concurrency=64]
'use strict';
const http = require('node:http');
const os = require('node:os');
const { startEmulator } = require('./lib/emulator.js');
const { unlimitedTenant } = require('./lib/floor.js');

function get(agent, port, path, token) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
}

(async () => {
  const seconds = Number(process.argv[2] || 5);
  const concurrency = Number(process.argv[3] || 64);
  const emu = await startEmulator();
  const { token } = await unlimitedTenant(emu, 'acme-corp');
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const end = Date.now() + seconds * 1000;
  let ok = 0;
  let other = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const status = await get(agent, emu.port, '/api/v2/organizations/me', token);
        if (status === 200) ok++;
        else other++;
      }
    }),
  );
  agent.destroy();
  await emu.stop();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`${Math.round(ok / seconds)} requests/s (${ok} ok, ${other} other) over ${seconds} s, ${concurrency} connections; ${os.cpus().length} cores, ${cpu}; client and emulator on the same machine`);
})();
