#!/usr/bin/env node
'use strict';
// The `genesys-tenants` command.
const commands = {
  demo: () => require('./demo.js').main,
};

const USAGE = `usage: genesys-tenants <command> [options]

commands:
  demo        run a guided tour against the built-in emulator (exit 0 if every check held)

Run 'genesys-tenants <command> --help' for a command's options.`;

async function main(argv) {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`genesys-tenants: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  return cmd()(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // Expected failures print one line; only bugs get a stack.
    console.error(`genesys-tenants: ${err.code ? `${err.code}: ` : ''}${err.message}`);
    process.exitCode = 1;
  },
);
