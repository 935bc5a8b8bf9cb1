'use strict';
// Scale: 10,000 tenants from a config file — initialize() time, resident memory per idle tenant, and
// background threads (rotation is one scheduler task for every tenant, not a timer each) — against
// one official-SDK ApiClient per tenant. Each measurement runs in a fresh process.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { median, cell, yes } = require('../lib/measure.js');

const TENANTS = 10_000;
const CHILD = path.join(__dirname, '..', 'scale-child.js');

function run(args) {
  const r = spawnSync(process.execPath, ['--expose-gc', CHILD, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`scale child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim());
}

module.exports = async function scale({ runs }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-scale-'));
  const entry = (i) => ({ tenantId: `tenant-${i}`, clientId: `client-${i}`, clientSecret: `secret-${i}-${'x'.repeat(24)}`, region: 'eu-west-1', rotationIntervalMs: 3_600_000 });
  const file = path.join(dir, 'tenants.json');
  const one = path.join(dir, 'one.json');
  fs.writeFileSync(file, JSON.stringify(Array.from({ length: TENANTS }, (_, i) => entry(i))));
  fs.writeFileSync(one, JSON.stringify([entry('base')]));
  const ours = [];
  const sdk = [];
  for (let r = 0; r < runs; r++) {
    ours.push(run(['ours', file, one]));
    sdk.push(run(['sdk', String(TENANTS)]));
    process.stderr.write(`  scale: run ${r + 1}/${runs}\n`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const ms = (xs) => cell(xs, (x) => x.toFixed(0));
  const kb = (xs) => cell(xs.map((x) => x / 1024), (x) => x.toFixed(2));
  const pick = (rs, k) => rs.map((x) => x[k]);
  const markdown = `## Scale: ${TENANTS.toLocaleString('en')} tenants

A config file of ${TENANTS.toLocaleString('en')} tenants, each with a rotation interval. Fresh process per measurement (\`--expose-gc\`,
collected before each reading); resident memory is measured against a one-tenant orchestrator already running.
${runs} runs, median (min–max).

| | initialize() / construction | RSS per idle tenant | OS threads before → after |
|---|---|---|---|
| genesys-tenants: ${TENANTS.toLocaleString('en')} tenants, \`initialize()\` | ${ms(pick(ours, 'initMs'))} ms | ${kb(pick(ours, 'rssPerTenant'))} KiB | ${median(pick(ours, 'threads0'))} → ${median(pick(ours, 'threads1'))} |
| official SDK: one \`ApiClientClass\` per tenant | ${ms(pick(sdk, 'initMs'))} ms | ${kb(pick(sdk, 'rssPerTenant'))} KiB | — |

The thread count is the process's (Node's own plus the addon's runtime); at most one more appears, tokio's blocking-pool
thread for the file read. Rotation for every tenant is one scheduler task (a min-heap fed by a channel, \`crates/core/src/scheduler.rs\`); the
thread count does not move with the number of tenants. Tokens are fetched on first use, so an idle tenant holds its
validated entry and nothing else.
`;
  const verdicts = [
    [`${TENANTS.toLocaleString('en')} tenants: initialize() ≤ 200 ms`, median(pick(ours, 'initMs')) <= 200],
    [`${TENANTS.toLocaleString('en')} tenants: ≤ 2 KB RSS per idle tenant`, median(pick(ours, 'rssPerTenant')) <= 2000],
    // tokio may start one blocking-pool thread on demand for the file read; nothing grows per tenant.
    [`${TENANTS.toLocaleString('en')} tenants: no background thread per tenant (at most tokio's one file-read thread more)`, ours.every((x) => x.threads1 <= x.threads0 + 1)],
  ];
  return { markdown, verdicts };
};
