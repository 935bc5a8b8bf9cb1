// Test helpers: start the emulator binary on 127.0.0.1:0 and talk to its control API.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const testing = require('../lib/testing.js');

/** The package's own `startEmulator` (genesys-tenants/testing), plus what these tests ask of it. */
export async function startEmulator(args = []) {
  const opts = {};
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] !== '--world') throw new Error(`helpers.startEmulator: unsupported argument ${args[i]}`);
    opts.world = args[i + 1];
  }
  const base = await testing.startEmulator(opts);
  const emu = {
    ...base,
    options(extra = {}) {
      return base.options({ configPollIntervalMs: 3_600_000, ...extra });
    },
    async clientId(tenantId) {
      const t = (await emu.tenants()).find((x) => x.tenantId === tenantId);
      if (!t) throw new Error(`no tenant ${tenantId} in the emulator's world`);
      return t.clientId;
    },
    async counters(tenantId) {
      return emu.control('GET', `counters/${await emu.clientId(tenantId)}`);
    },
  };
  return emu;
}

/** Runs the package's CLI (`lib/cli/index.js`) with `args` and extra `env`; killed after `timeoutMs`.
 * Resolves to `{ code, out, err }`. */
export function runCli(args, env = {}, timeoutMs = 60_000) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(root, 'lib', 'cli', 'index.js'), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}
