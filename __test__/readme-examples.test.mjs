// Every ```js block of the README runs against the emulator, so the manual never rots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { startEmulator, root } from './helpers.mjs';

const require = createRequire(import.meta.url);
const blocks = [...readFileSync(path.join(root, 'README.md'), 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);

let emu;
before(async () => {
  emu = await startEmulator();
  process.env.CONFIG_ENDPOINT = emu.url;
  process.env.CONFIG_SERVICE_TOKEN = emu.configServiceToken;
  process.env.GT_KEY = 'c0'.repeat(32);
});
after(async () => {
  await emu?.stop();
});

// `require('genesys-tenants')` in an example gets the package with the emulator as gateway, the one
// thing an example cannot know; every `o` left open is closed afterwards.
function sandboxRequire(opened) {
  const pkg = require('../lib/index.js');
  class TenantOrchestrator extends pkg.TenantOrchestrator {
    constructor(options) {
      super(typeof options === 'string' ? { gateway: emu.gateway, configEndpoint: options } : { gateway: emu.gateway, ...options });
      opened.push(this);
    }
  }
  return (name) => (name === 'genesys-tenants' ? { ...pkg, TenantOrchestrator } : require(name));
}

test('the README has runnable examples', () => {
  assert.ok(blocks.length >= 4, `found ${blocks.length}`);
});

for (const [i, code] of blocks.entries()) {
  test(`README example ${i + 1}: ${code.split('\n').find((l) => l.trim() && !l.startsWith('//'))?.slice(0, 60)}`, async () => {
    const opened = [];
    const req = sandboxRequire(opened);
    // Examples that continue the quick start get its import and its `o`.
    let prelude = /require\('genesys-tenants'\)/.test(code) ? '' : "const { TenantOrchestrator } = require('genesys-tenants');\n";
    if (!/new TenantOrchestrator/.test(code)) prelude += 'const o = new TenantOrchestrator({ configEndpoint: process.env.CONFIG_ENDPOINT }); await o.initialize();\n';
    const body = code.replace(/^\s*import .*$/gm, '');
    const fn = new Function('require', 'console', `return (async () => {\n${prelude}${body}\n})();`);
    const logs = [];
    const quiet = { ...console, log: (...a) => logs.push(a.join(' ')) };
    try {
      await fn(req, quiet);
    } finally {
      for (const o of opened) await o.close();
    }
  });
}
