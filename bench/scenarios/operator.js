'use strict';
// Operator paths (issue 27, item 5): what a Prometheus scrape of 10,000 tenants costs Node's thread
// (metricsText() renders on Node's thread; metricsTextAsync() on a worker thread, handing over the
// finished text), and a reload of 100,000 tenants with one entry changed against reading and
// JSON.parse-ing the same file in Node. Each run is a fresh process (bench/operator-child.js,
// bench/reload-child.js).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { median, cell } = require('../lib/measure.js');

const TENANTS = 10_000;
const REPS = 5;
const CHILD = path.join(__dirname, '..', 'operator-child.js');
const RELOAD_CHILD = path.join(__dirname, '..', 'reload-child.js');
const RELOAD_TENANTS = 100_000;

module.exports = async function operator({ runs }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-operator-'));
  const file = path.join(dir, 'tenants.json');
  const entry = (i) => ({ tenantId: `tenant-${i}`, clientId: `client-${i}`, clientSecret: `secret-${i}-${'x'.repeat(24)}`, region: 'eu-west-1' });
  fs.writeFileSync(file, JSON.stringify(Array.from({ length: TENANTS }, (_, i) => entry(i))));
  const sync = [];
  const stall = [];
  const total = [];
  let bytes = 0;
  let sameSize = true;
  const reload = [];
  const readParse = [];
  try {
    for (let r = 0; r < runs; r++) {
      const c = spawnSync(process.execPath, [CHILD, file, String(REPS)], { encoding: 'utf8', timeout: 120_000 });
      if (c.status !== 0) throw new Error(`operator child failed: ${c.stderr}`);
      const m = JSON.parse(c.stdout.trim());
      // Each process's median of its repetitions.
      sync.push(median(m.sync));
      if (m.stall.length) {
        stall.push(median(m.stall));
        total.push(median(m.total));
        sameSize &&= m.sameSize;
      }
      bytes = m.bytes;
      const rc = spawnSync(process.execPath, [RELOAD_CHILD, path.join(dir, 'reload.json'), String(RELOAD_TENANTS), String(REPS)], { encoding: 'utf8', timeout: 300_000 });
      if (rc.status !== 0) throw new Error(`reload child failed: ${rc.stderr}`);
      const rm = JSON.parse(rc.stdout.trim());
      reload.push(median(rm.reload));
      readParse.push(median(rm.readParse));
      process.stderr.write(`  operator: run ${r + 1}/${runs}\n`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const ms = (xs) => (xs.length ? `${cell(xs, (x) => x.toFixed(1))} ms` : '—');
  const markdown = `## Operator paths: a metrics scrape of ${TENANTS.toLocaleString('en')} tenants, a reload of ${RELOAD_TENANTS.toLocaleString('en')}

A config file of ${TENANTS.toLocaleString('en')} idle tenants (every tenant's series are rendered, ${(bytes / 2 ** 20).toFixed(1)} MiB of text).
Fresh process per run, ${REPS} renders each (the process's median); ${runs} runs, median (min–max). Time on Node's
thread: for \`metricsText()\` the call itself; for \`metricsTextAsync()\` the longest gap between two \`setImmediate\`
ticks while its promise is pending (the render runs on a worker thread; Node's thread only turns the finished text
into a string).

| | time on Node's thread | until the text is there |
|---|---|---|
| \`metricsText()\` | ${ms(sync)} | ${ms(sync)} |
| \`metricsTextAsync()\` | ${ms(stall)} | ${ms(total)} |

A config file of ${RELOAD_TENANTS.toLocaleString('en')} tenants; ${REPS} times one entry's secret changes and \`reloadConfig()\` reads it again
(the diff checked: exactly that tenant changed), against \`JSON.parse(fs.readFileSync(file))\` of the same file in Node.
Fresh process per run (the process's median); ${runs} runs, median (min–max).

| | time | ÷ read + JSON.parse |
|---|---|---|
| read + \`JSON.parse\` in Node | ${ms(readParse)} | 1.00 |
| \`reloadConfig()\`, one entry of ${RELOAD_TENANTS.toLocaleString('en')} changed | ${ms(reload)} | ${(median(reload) / median(readParse)).toFixed(2)} |
`;
  const verdicts = [
    ...(stall.length ? [[`metricsText of ${TENANTS.toLocaleString('en')} tenants: ≤ 20 ms on Node's thread (metricsTextAsync), the same text`, median(stall) <= 20 && sameSize]] : []),
    [`reload of ${RELOAD_TENANTS.toLocaleString('en')} tenants, one entry changed: ≤ 1.5× read + JSON.parse`, median(reload) / median(readParse) <= 1.5],
  ];
  return { markdown, verdicts };
};
