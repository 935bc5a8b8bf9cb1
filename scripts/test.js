#!/usr/bin/env node
// Runs every test suite in turn — cargo test, rustfmt, clippy, node --test, Jest, the type check — streams their
// output, and ends with one summary line, "N passed, N failed", counted from each runner's report.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

function files(dir, pattern) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs)
    .filter((f) => pattern.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

// Each suite: how to run it and how to read its counts from what it printed.
const suites = [
  {
    name: 'cargo test',
    cmd: 'cargo',
    args: ['test', '--workspace', '--release'],
    count(out) {
      let passed = 0;
      let failed = 0;
      for (const m of out.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
        passed += Number(m[1]);
        failed += Number(m[2]);
      }
      return { passed, failed };
    },
  },
  {
    name: 'rustfmt (cargo fmt --check)',
    cmd: 'cargo',
    args: ['fmt', '--all', '--check'],
    count(_out, code) {
      return code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
    },
  },
  {
    name: 'clippy (-D warnings)',
    cmd: 'cargo',
    args: ['clippy', '--release', '--workspace', '--all-targets', '--', '-D', 'warnings'],
    count(_out, code) {
      return code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
    },
  },
  {
    name: 'node --test',
    cmd: process.execPath,
    args: ['--test', '--test-concurrency=1', ...files('__test__', /\.test\.(mjs|cjs|js)$/)],
    skip: files('__test__', /\.test\.(mjs|cjs|js)$/).length === 0,
    count(out) {
      const pass = out.match(/^ℹ pass (\d+)$/m) || out.match(/^# pass (\d+)$/m);
      const fail = out.match(/^ℹ fail (\d+)$/m) || out.match(/^# fail (\d+)$/m);
      return { passed: pass ? Number(pass[1]) : 0, failed: fail ? Number(fail[1]) : 0 };
    },
  },
  {
    name: 'jest',
    cmd: bin('jest'),
    args: ['--config', 'jest.config.js', '--detectOpenHandles', '--ci'],
    skip: !fs.existsSync(path.join(root, 'jest.config.js')),
    count(out) {
      const m = out.match(/^Tests:\s+(.*)$/m);
      if (!m) return { passed: 0, failed: 0 };
      const n = (word) => Number((m[1].match(new RegExp(`(\\d+) ${word}`)) || [0, 0])[1]);
      return { passed: n('passed'), failed: n('failed') };
    },
  },
  {
    name: 'types (tsc --noEmit)',
    cmd: bin('tsc'),
    args: ['-p', '__test__/types/tsconfig.json'],
    skip: !fs.existsSync(path.join(root, '__test__/types/tsconfig.json')),
    count(_out, code) {
      return code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
    },
  },
];

function runSuite(suite) {
  return new Promise((resolve) => {
    console.log(`\n=== ${suite.name} ===`);
    const child = spawn(suite.cmd, suite.args, { cwd: root, env: process.env });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      out += d;
      process.stderr.write(d);
    });
    child.on('error', (err) => resolve({ code: 1, out: `${out}\n${err.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

(async () => {
  let passed = 0;
  let failed = 0;
  const broken = [];
  for (const suite of suites) {
    if (suite.skip) continue;
    const { code, out } = await runSuite(suite);
    const c = suite.count(out, code);
    passed += c.passed;
    failed += c.failed;
    // A runner that failed without reporting a failed test (build error, crash) still fails the run.
    if (code !== 0) {
      broken.push(`${suite.name} (exit ${code})`);
      if (c.failed === 0) failed += 1;
    }
  }
  console.log('');
  if (broken.length) console.log(`failing suites: ${broken.join(', ')}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && broken.length === 0 ? 0 : 1);
})();
