#!/usr/bin/env node
// `npm run bench`: every scenario in one run, each on its own emulator, and bench/README.md
// regenerated from what was measured. Loops are bounded in count and time and target 127.0.0.1.
// BENCH_RUNS (default 5) sets the runs per scenario; BENCH_ONLY=goodput,storms runs a subset
// (and writes nothing).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { yes } = require('./lib/measure.js');

const settings = {
  runs: Number(process.env.BENCH_RUNS || 5),
  latencyCalls: Number(process.env.BENCH_LATENCY_CALLS || 1000),
  throughputMs: Number(process.env.BENCH_THROUGHPUT_MS || 2000),
};
const SCENARIOS = ['calls', 'tracing', 'tokens', 'storms', 'goodput', 'pools', 'fairness', 'rotation', 'scale', 'operator', 'pagination', 'catalogue', 'criterion'];
const only = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : null;

async function main() {
  const started = Date.now();
  const sections = [];
  const verdicts = [];
  for (const name of SCENARIOS) {
    if (only && !only.includes(name)) continue;
    process.stderr.write(`${name}…\n`);
    const r = await require(`./scenarios/${name}.js`)(settings);
    sections.push(r.markdown);
    verdicts.push(...r.verdicts);
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  const md = `# Benchmarks

Regenerate with \`npm run bench\` (it builds first; about ${Math.ceil((Date.now() - started) / 60000)} minutes). Every figure comes from one run of
\`bench/run.js\` on one machine: each scenario starts its own emulator on 127.0.0.1, which shares the machine with the
clients, and repeats ${settings.runs} times; tables give medians with min–max. Contenders: the floor (node:http with a static
token), the official SDK used directly, the tutorial pattern (\`bench/tutorial-pattern.js\`: after the tutorial's text, the kinder reading, see its
header), \`request()\` and the official SDK through \`getTenantClient()\`.

Machine: ${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}. Date: ${new Date().toISOString().slice(0, 10)}.

## Targets

| target | met? |
|---|---|
${verdicts.map(([what, ok]) => `| ${what} | ${yes(ok)} |`).join('\n')}

${sections.join('\n')}`;
  if (only) {
    console.log(md);
    return;
  }
  fs.writeFileSync(path.join(__dirname, 'README.md'), md);
  console.log(md);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
