#!/usr/bin/env node
'use strict';
// The `genesys-tenants` command.
const { printable } = require('./printable.js');

const commands = {
  demo: () => require('./demo.js').main,
  doctor: () => require('./doctor.js').main,
  token: () => require('./commands.js').token,
  rotate: () => require('./commands.js').rotate,
  emulator: () => require('./commands.js').emulator,
  explain: () => require('./explain.js').main,
  webhook: () => require('./webhook.js').main,
};

const USAGE = `usage: genesys-tenants <command> [options]

commands:
  demo        a guided tour against the built-in emulator (exit 0 if every check held)
  doctor      check every tenant of a config and say what to fix (exit 1 on any problem)
  token       obtain a token for a tenant (masked unless --reveal)
  rotate      re-read a tenant's config and obtain a new token
  emulator    run the Genesys Cloud emulator in the foreground
  explain     what one API operation needs: permissions, accepted scopes, replay safety
  webhook     'webhook sign': a signed rotation-webhook delivery to test a receiver with

Run 'genesys-tenants <command> --help' for a command's options; 'genesys-tenants --version' prints the version.`;

/** One-line hints for the mistakes people make most, after the error itself. */
function hintFor(err) {
  if (err.code === 'CONFIG_UNAVAILABLE' && /answered HTTP 40[13]\b/.test(err.message)) {
    return process.env.CONFIG_SERVICE_TOKEN
      ? 'the config service refused CONFIG_SERVICE_TOKEN: check its value (it is sent as X-Service-Token)'
      : 'the config service wants a token: set CONFIG_SERVICE_TOKEN (it is sent as X-Service-Token)';
  }
  if (err.code === 'CONFIG_UNAVAILABLE' && /connection refused|error sending request|dns/i.test(err.message)) {
    return 'is the config service running at that address? (for the emulator: `genesys-tenants emulator` prints its URL)';
  }
  return null;
}

async function main(argv) {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    if (rest.length) throw Object.assign(new Error(`unexpected argument '${rest[0]}'`), { code: 'USAGE' });
    console.log(require('../../package.json').version);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`genesys-tenants: unknown command '${printable(name)}'\n\n${USAGE}`);
    return 2;
  }
  return cmd()(rest.map((a) => (a === '-h' ? '--help' : a)));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // Expected failures print one line (and usage errors exit 2); only bugs get a stack. A message
    // may quote what came from outside (an argument, a config entry, a server's answer), so it is
    // printed with its control characters escaped: it stays one line and cannot drive the terminal.
    // This is the one place every command's errors pass: messages are built raw and escaped here.
    const message = printable(err?.message ?? err);
    if (err?.code === 'USAGE') {
      console.error(`genesys-tenants: ${message} (see --help)`);
      process.exitCode = 2;
    } else if (err?.code === 'INVALID_OPTIONS') {
      // A flag's value the library refused (a --config-endpoint that is not a URL, …): a usage error.
      console.error(`genesys-tenants: ${printable(err.code)}: ${message} (see --help)`);
      process.exitCode = 2;
    } else if (err?.code) {
      console.error(`genesys-tenants: ${printable(err.code)}: ${message}`);
      const hint = hintFor(err);
      if (hint) console.error(`  hint: ${hint}`);
      process.exitCode = 1;
    } else {
      // A bug: its message escaped like any other, then the stack's frames.
      const stack = typeof err?.stack === 'string' ? err.stack : '';
      const frames = stack.split('\n').filter((l) => /^\s+at /.test(l)).map(printable);
      console.error([`genesys-tenants: ${printable(err?.name ?? 'Error')}: ${message}`, ...frames].join('\n'));
      process.exitCode = 1;
    }
  },
);
