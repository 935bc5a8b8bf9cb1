'use strict';
// One fresh process of the reload measurement in bench/scenarios/operator.js: an orchestrator over a
// config file of N tenants; then, REPS times, one entry's secret changes in the file and
// reloadConfig() is timed, against reading the same file and JSON.parse-ing it in Node. Prints one
// JSON line.
const fs = require('node:fs');
const { TenantOrchestrator } = require('../lib/index.js');

const [file, n, reps] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] || 5)];
const entry = (i, v) => ({ tenantId: `tenant-${i}`, clientId: `client-${i}`, clientSecret: `secret-${i}-${v}-${'x'.repeat(24)}`, region: 'eu-west-1' });

async function main() {
  const entries = Array.from({ length: n }, (_, i) => entry(i, 0));
  fs.writeFileSync(file, JSON.stringify(entries));
  const o = new TenantOrchestrator({ configFile: file });
  await o.initialize();
  const reload = [];
  const readParse = [];
  for (let r = 1; r <= reps; r++) {
    entries[r] = entry(r, r);
    fs.writeFileSync(file, JSON.stringify(entries));
    let t0 = process.hrtime.bigint();
    const diff = await o.reloadConfig();
    reload.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (JSON.stringify(diff.changed) !== JSON.stringify([`tenant-${r}`]) || diff.added.length || diff.removed.length) throw new Error(`unexpected diff ${JSON.stringify(diff)}`);
    t0 = process.hrtime.bigint();
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    readParse.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (parsed.length !== n) throw new Error('short read');
  }
  await o.close();
  console.log(JSON.stringify({ reload, readParse }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
