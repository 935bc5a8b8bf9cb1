// Every ```js block of the manual — README.md and docs/*.md — runs against the emulator, so the manual never rots. A complete program
// (one that requires the package) runs as written: saved to a .js file inside the package (so that
// `require('genesys-tenants')` resolves to it, as in a consumer's project) and run by `node` with the
// environment the README tells a reader to set. Its `console.log(...); // expected` comments must show up
// in what it printed. A snippet that continues the quick start runs in an async function given its `o`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, readdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { startEmulator, root } from './helpers.mjs';

const require = createRequire(import.meta.url);
const pages = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const blocks = pages.flatMap((page) =>
  [...readFileSync(path.join(root, page), 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map((m) => ({ page, code: m[1] })),
);

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

test('the manual has runnable examples', () => {
  assert.ok(blocks.length >= 9, `found ${blocks.length}`);
});

test('README.md is a front page: at most 350 lines, every docs/ page linked from it, every relative link resolves', () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  assert.ok(readme.split('\n').length <= 350, `README.md has ${readme.split('\n').length} lines`);
  for (const page of pages.filter((p) => p !== 'README.md')) assert.ok(readme.includes(`](${page}`), `README links ${page}`);
  for (const page of pages) {
    const text = readFileSync(path.join(root, page), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)\s#]+)(?:#[^)\s]*)?\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const file = path.join(root, path.dirname(page), target);
      assert.ok(existsSync(file), `${page} links ${target}, which does not exist`);
    }
  }
});

/** The outputs a program's comments promise: `console.log(a, b); // 1234 1234` → `1234 1234`. */
function promised(code) {
  return [...code.matchAll(/console\.log\(.*\);\s*\/\/\s*(.+)$/gm)].map((m) => m[1].trim());
}

for (const [i, { page, code }] of blocks.entries()) {
  const title = `${page} example ${i + 1}: ${code.split('\n').find((l) => l.trim() && !l.startsWith('//'))?.slice(0, 60)}`;
  if (/require\('genesys-tenants'\)/.test(code)) {
    test(`${title} (as written)`, () => {
      const dir = path.join(root, 'target', 'readme-examples');
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `example-${i + 1}.js`);
      writeFileSync(file, code);
      const env = { ...process.env, CONFIG_ENDPOINT: emu.url, CONFIG_SERVICE_TOKEN: emu.configServiceToken, GENESYS_TENANTS_GATEWAY: emu.url };
      const r = spawnSync(process.execPath, [file], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
      assert.equal(r.stderr, '', 'nothing on stderr');
      for (const expected of promised(code)) assert.ok(r.stdout.includes(expected), `printed ${JSON.stringify(expected)}:\n${r.stdout}`);
    });
    continue;
  }
  test(title, async () => {
    const opened = [];
    const req = sandboxRequire(opened);
    const prelude = "const { TenantOrchestrator } = require('genesys-tenants');\n" + 'const o = new TenantOrchestrator({ configEndpoint: process.env.CONFIG_ENDPOINT }); await o.initialize();\n';
    const fn = new Function('require', 'console', `return (async () => {\n${prelude}${code}\n})();`);
    const logs = [];
    const quiet = { ...console, log: (...a) => logs.push(a.join(' ')) };
    try {
      await fn(req, quiet);
    } finally {
      for (const o of opened) await o.close();
    }
  });
}
