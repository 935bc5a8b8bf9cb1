// CommonJS copy of the emulator starter for Jest (which runs CJS by default).
const { startEmulator } = require('../../lib/testing.js');

module.exports = { startEmulator };
