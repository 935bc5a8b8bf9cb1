'use strict';
// The Rust hot paths, measured by criterion (crates/core/benches/hot_paths.rs): its estimate of the
// mean with the 95% confidence interval.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');

module.exports = async function criterion() {
  const r = spawnSync('cargo', ['bench', '-p', 'genesys-tenants-core', '--bench', 'hot_paths', '--', '--warm-up-time', '1', '--measurement-time', '3'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 900_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`cargo bench failed:\n${r.stderr.slice(-4000)}`);
  // "name   time:   [low est high]", the name sometimes on the line before.
  const rows = [];
  let last = '';
  for (const line of r.stdout.split('\n')) {
    const m = line.match(/^(.*?)\s*time:\s+\[(\S+ \S+) (\S+ \S+) (\S+ \S+)\]/);
    if (m) {
      rows.push({ name: (m[1].trim() || last).trim(), low: m[2], est: m[3], high: m[4] });
    } else if (line.trim() && !line.startsWith(' ')) {
      last = line.trim();
    }
  }
  if (rows.length === 0) throw new Error(`no criterion results found in:\n${r.stdout.slice(-2000)}`);
  const markdown = `## Rust hot paths (criterion)

\`cargo bench -p genesys-tenants-core --bench hot_paths\`: criterion's estimate of the mean, with its 95% confidence interval.

| path | time | 95% CI |
|---|---|---|
${rows.map((x) => `| ${x.name} | ${x.est} | ${x.low} – ${x.high} |`).join('\n')}

The page merge moves a page's items out of its JSON body; the row marked "the old way" is the deep copy it did before
(up to three per page), kept in the bench for the comparison. The catalogue rows: finding a request's operation among
the ~3,300 of the Platform API (per request, for pre-flight and replay safety), and parsing the compiled-in data once
per process, on first use (the first config read).
`;
  return { markdown, verdicts: [] };
};
