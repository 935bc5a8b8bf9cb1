#!/usr/bin/env node
'use strict';
// The `genesys-tenants` command.
const commands = {
  demo: () => require('./demo.js').main,
  doctor: () => require('./doctor.js').main,
  token: () => require('./commands.js').token,
  rotate: () => require('./commands.js').rotate,
  emulator: () => require('./commands.js').emulator,
  explain: () => require('./explain.js').main,
};

const USAGE = `usage: genesys-tenants <command> [options]

commands:
  demo        a guided tour against the built-in emulator (exit 0 if every check held)
  doctor      check every tenant of a config and say what to fix (exit 1 on any problem)
  token       obtain a token for a tenant (masked unless --reveal)
  rotate      re-read a tenant's config and obtain a new token
  emulator    run the Genesys Cloud emulator in the foreground
  explain     what one API operation needs: permissions, accepted scopes, replay safety

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
    // Expected failures print one line (and usage errors exit 2); only bugs get a stack.
    if (err.code === 'USAGE') {
      console.error(`genesys-tenants: ${err.message} (see --help)`);
      process.exitCode = 2;
    } else if (err.code) {
      console.error(`genesys-tenants: ${err.code}: ${err.message}`);
      process.exitCode = 1;
    } else {
      console.error(err);
      process.exitCode = 1;
    }
  },
);
