// Test helpers: start the emulator binary on 127.0.0.1:0 and talk to its control API.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const emulatorBin = path.join(root, 'target', 'release', 'genesys-emulator');

export async function startEmulator(args = []) {
  if (!existsSync(emulatorBin)) {
    throw new Error(`emulator binary missing at ${emulatorBin}: run \`npm run build\` first`);
  }
  const child = spawn(emulatorBin, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('emulator did not print its URL within 10 s')), 10_000);
    rl.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`emulator exited early with ${code}`)));
  });
  rl.close();
  const info = JSON.parse(first);
  const port = Number(new URL(info.url).port);
  const emu = {
    ...info,
    port,
    child,
    gateway: { protocol: 'http', host: '127.0.0.1', port },
    options(extra = {}) {
      return {
        configEndpoint: info.url,
        configServiceToken: info.configServiceToken,
        gateway: { protocol: 'http', host: '127.0.0.1', port },
        configPollIntervalMs: 3_600_000,
        ...extra,
      };
    },
    async control(method, p, body) {
      const res = await fetch(`${info.url}/__control/${p.replace(/^\//, '')}`, {
        method,
        headers: { 'X-Service-Token': info.configServiceToken, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`control ${method} ${p} -> ${res.status}: ${text}`);
      return text ? JSON.parse(text) : null;
    },
    async tenants() {
      const res = await fetch(`${info.url}/api/v1/genesys/tenants`, { headers: { 'X-Service-Token': info.configServiceToken } });
      return res.json();
    },
    async clientId(tenantId) {
      const t = (await emu.tenants()).find((x) => x.tenantId === tenantId);
      if (!t) throw new Error(`no tenant ${tenantId} in the emulator's world`);
      return t.clientId;
    },
    async counters(tenantId) {
      return emu.control('GET', `counters/${await emu.clientId(tenantId)}`);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
  return emu;
}
