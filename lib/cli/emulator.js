'use strict';
// Starting the emulator binary and talking to its control API, for the CLI and demo.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'target', 'release', 'genesys-emulator');

function emulatorPath() {
  return process.env.GENESYS_EMULATOR_BIN || BIN;
}

async function startEmulator(args = []) {
  const bin = emulatorPath();
  if (!fs.existsSync(bin)) {
    const e = new Error(`the emulator binary is missing (${bin}); run \`npm run build\``);
    e.code = 'EMULATOR_MISSING';
    throw e;
  }
  const child = spawn(bin, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const rl = readline.createInterface({ input: child.stdout });
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the emulator did not start within 10 s')), 10_000);
    rl.once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the emulator exited with ${code}: ${stderr.trim()}`));
    });
  });
  rl.close();
  const info = JSON.parse(line);
  const port = Number(new URL(info.url).port);
  const control = async (method, p, body) => {
    const res = await fetch(`${info.url}/__control/${p}`, {
      method,
      headers: { 'X-Service-Token': info.configServiceToken, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`emulator control ${method} ${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    ...info,
    port,
    child,
    control,
    gateway: { protocol: 'http', host: '127.0.0.1', port },
    async tenants() {
      const res = await fetch(`${info.url}/api/v1/genesys/tenants`, { headers: { 'X-Service-Token': info.configServiceToken } });
      return res.json();
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}

module.exports = { startEmulator, emulatorPath };
