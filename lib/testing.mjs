// ESM entry of `genesys-tenants/testing`: the same functions as the CommonJS entry.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cjs = require('./testing.js');

export const { startEmulator, emulatorPath } = cjs;
export default cjs;
