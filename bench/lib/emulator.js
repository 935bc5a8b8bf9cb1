'use strict';
// The package's own emulator launcher (genesys-tenants/testing), called with the emulator's
// command-line arguments as the scenarios write them: startEmulator(['--world', file]).
const testing = require('../../lib/testing.js');

function startEmulator(args = []) {
  const options = {};
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] !== '--world') throw new Error(`bench startEmulator: unsupported argument ${args[i]}`);
    options.world = args[i + 1];
  }
  return testing.startEmulator(options);
}

module.exports = { startEmulator };
