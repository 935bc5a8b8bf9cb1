'use strict';
// `token`, `rotate` and `emulator`.
const { spawn } = require('node:child_process');
const { TenantOrchestrator } = require('../index.js');
const { parseArgs, orchestratorOptions, CONFIG_FLAGS, usageError, noExtra } = require('./args.js');
const { emulatorPath } = require('../testing.js');
const { printable, hasUnsafe } = require('./printable.js');

// A token is the server's text: printed escaped (a real one has nothing to escape).
function mask(token) {
  return `${printable(token.slice(0, 4))}…(${token.length} chars)`;
}

async function withOrchestrator(args, fn) {
  const o = new TenantOrchestrator(orchestratorOptions(args));
  try {
    await o.initialize();
    return await fn(o);
  } finally {
    await o.close();
  }
}

async function token(argv) {
  const args = parseArgs(argv, { ...CONFIG_FLAGS, reveal: 'boolean' });
  if (args.help) {
    console.log('usage: genesys-tenants token <tenantId> (--config-endpoint URL | --config-file PATH) [--gateway URL] [--reveal]\n\nObtains a token for the tenant and prints it masked (or whole with --reveal).');
    return 0;
  }
  const [tenantId] = args._;
  if (!tenantId) throw usageError('token needs a tenant id');
  noExtra(args, 1, 'token takes one tenant id');
  return withOrchestrator(args, async (o) => {
    const t = await o.getAccessToken(tenantId);
    console.log(args.reveal ? printable(t) : mask(t));
    return 0;
  });
}

async function rotate(argv) {
  const args = parseArgs(argv, CONFIG_FLAGS);
  if (args.help) {
    console.log('usage: genesys-tenants rotate <tenantId> (--config-endpoint URL | --config-file PATH) [--gateway URL]\n\nRe-reads the tenant\'s config and obtains a new token with it.');
    return 0;
  }
  const [tenantId] = args._;
  if (!tenantId) throw usageError('rotate needs a tenant id');
  noExtra(args, 1, 'rotate takes one tenant id');
  return withOrchestrator(args, async (o) => {
    await o.getAccessToken(tenantId);
    await o.rotateCredentials(tenantId);
    const s = o.stats().tenants[tenantId];
    console.log(`rotated ${printable(tenantId)}: new token obtained (${s.tokenRequests} token requests)`);
    return 0;
  });
}

const EMULATOR_USAGE = `usage: genesys-tenants emulator [--port N] [--config-port N] [--world FILE] [--token T]

Runs the Genesys Cloud emulator in the foreground on 127.0.0.1; the first stdout line is JSON:
{"url", "configUrl", "configServiceToken"}. Stops on Ctrl-C.
  --port N         main port (default 0: any free port)
  --config-port N  port of the dedicated config-service listener (default 0)
  --world FILE     a world JSON file (default: the built-in demo world)
  --token T        the config service's and control API's X-Service-Token (default: random)`;

function emulator(argv) {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(EMULATOR_USAGE);
    return Promise.resolve(0);
  }
  // The binary checks its own flags (exit 2 on a bad one) and echoes a bad one raw: an argument with a
  // control character is refused here, escaped, before the binary can print it.
  const hostile = argv.find(hasUnsafe);
  if (hostile !== undefined) return Promise.reject(usageError(`argument '${hostile}' holds a control character`));
  const bin = emulatorPath();
  if (!bin) {
    const e = new Error('the emulator binary is missing: it ships in the platform package (install with optional dependencies) or comes from `npm run build` in a checkout; GENESYS_EMULATOR_BIN overrides');
    e.code = 'EMULATOR_MISSING';
    return Promise.reject(e);
  }
  return new Promise((resolve) => {
    const p = spawn(bin, argv, { stdio: 'inherit' });
    const stop = () => p.kill('SIGTERM');
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    p.on('error', (e) => {
      console.error(`genesys-tenants: cannot start the emulator at ${printable(bin)} (${printable(e.message)})`);
      resolve(1);
    });
    p.on('exit', (code) => resolve(code ?? 0));
  });
}

module.exports = { token, rotate, emulator, mask };
