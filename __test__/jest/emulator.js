// CommonJS copy of the emulator starter for Jest (which runs CJS by default).
const { startEmulator } = require('../../lib/cli/emulator.js');

module.exports = { startEmulator };
