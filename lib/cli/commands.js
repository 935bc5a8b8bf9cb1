'use strict';
// `token`, `rotate` and `emulator`.
const { spawn } = require('node:child_process');
const { TenantOrchestrator } = require('../index.js');
const { parseArgs, orchestratorOptions, CONFIG_FLAGS, usageError } = require('./args.js');
const { emulatorPath } = require('./emulator.js');

function mask(token) {
  return `${token.slice(0, 4)}…(${token.length} chars)`;
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
  return withOrchestrator(args, async (o) => {
    const t = await o.getAccessToken(tenantId);
    console.log(args.reveal ? t : mask(t));
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
  return withOrchestrator(args, async (o) => {
    await o.getAccessToken(tenantId);
    await o.rotateCredentials(tenantId);
    const s = o.stats().tenants[tenantId];
    console.log(`rotated ${tenantId}: new token obtained (${s.tokenRequests} token requests)`);
    return 0;
  });
}

function emulator(argv) {
  if (argv.includes('--help')) {
    console.log('usage: genesys-tenants emulator [--port N] [--world FILE] [--token T]\n\nRuns the Genesys Cloud emulator in the foreground; the first line is its URL and config-service token.');
    return Promise.resolve(0);
  }
  return new Promise((resolve) => {
    const p = spawn(emulatorPath(), argv, { stdio: 'inherit' });
    const stop = () => p.kill('SIGTERM');
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    p.on('error', (e) => {
      console.error(`genesys-tenants: cannot start the emulator (${e.message}); run \`npm run build\``);
      resolve(1);
    });
    p.on('exit', (code) => resolve(code ?? 0));
  });
}

module.exports = { token, rotate, emulator, mask };
