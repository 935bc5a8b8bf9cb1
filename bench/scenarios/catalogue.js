'use strict';
// The operation catalogue's cost: its data's size in the package and the addon, the memory and time
// of parsing it once per process, and one lookup from JS. Each run is a fresh Node process.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { median } = require('../lib/measure.js');

const ROOT = path.resolve(__dirname, '..', '..');
const DATA = path.join(ROOT, 'crates', 'catalogue', 'data', 'operations.json');

const PROBE = `
const native = require(${JSON.stringify(path.join(ROOT, 'index.js'))});
global.gc && global.gc();
const rss0 = process.memoryUsage().rss;
const t0 = process.hrtime.bigint();
native.explainOperation('GET', '/api/v2/users/me');
const first = Number(process.hrtime.bigint() - t0) / 1e6;
const rss1 = process.memoryUsage().rss;
const n = 20000;
const t1 = process.hrtime.bigint();
for (let i = 0; i < n; i++) native.explainOperation('GET', '/api/v2/routing/queues/q-' + (i % 7));
const each = Number(process.hrtime.bigint() - t1) / n / 1e3;
console.log(JSON.stringify({ first, rss: rss1 - rss0, each }));
`;

module.exports = async function catalogue(settings) {
  const runs = [];
  for (let i = 0; i < settings.runs; i++) {
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', PROBE], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`catalogue probe failed: ${r.stderr}`);
    runs.push(JSON.parse(r.stdout));
  }
  const data = JSON.parse(fs.readFileSync(DATA, 'utf8'));
  const addon = fs.readdirSync(ROOT).find((f) => f.endsWith('.node'));
  const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
  const markdown = `## Operation catalogue

\`crates/catalogue/data/operations.json\` (${data.counts.operations} operations of ${data.sdk}, ${data.strings.length} distinct
scope and permission names stored once): **${kib(fs.statSync(DATA).size)}** of JSON, compiled into the addon as
read-only data (the addon is ${addon ? kib(fs.statSync(path.join(ROOT, addon)).size) : '—'} in all). Parsed and indexed once per process, on first use:

| measure | median (min–max) of ${settings.runs} fresh processes |
|---|---|
| first use: parse + index | ${median(runs.map((r) => r.first)).toFixed(1)} (${Math.min(...runs.map((r) => r.first)).toFixed(1)}–${Math.max(...runs.map((r) => r.first)).toFixed(1)}) ms |
| resident memory it adds | ${kib(median(runs.map((r) => r.rss)))} |
| \`explainOperation()\` from JS, per call (lookup + JSON across N-API) | ${median(runs.map((r) => r.each)).toFixed(2)} µs |

The lookup inside a request (no JSON, no N-API) is in the criterion table below: a few hundred nanoseconds.
`;
  return { markdown, verdicts: [] };
};
