'use strict';
// One fresh process of the operator-paths scenario (bench/scenarios/operator.js): an orchestrator over
// a config file of N tenants, then metricsText() on Node's thread and, when the package has it,
// metricsTextAsync(), whose cost to Node's thread is the longest gap in a setImmediate ticker kept
// running while it renders. Prints one JSON line.
const { TenantOrchestrator } = require('../lib/index.js');

const [file, reps] = [process.argv[2], Number(process.argv[3] || 5)];

/** The longest stall of Node's event loop while `fn()`'s promise is pending, and its total time. */
async function stallDuring(fn) {
  let last = process.hrtime.bigint();
  let worst = 0n;
  let done = false;
  const tick = () => {
    const now = process.hrtime.bigint();
    if (now - last > worst) worst = now - last;
    last = now;
    if (!done) setImmediate(tick);
  };
  setImmediate(tick);
  const t0 = process.hrtime.bigint();
  const out = await fn();
  const total = process.hrtime.bigint() - t0;
  done = true;
  // The tick after the answer: a stall in resolving the promise shows here.
  await new Promise((r) => setImmediate(r));
  const now = process.hrtime.bigint();
  if (now - last > worst) worst = now - last;
  return { out, stallMs: Number(worst) / 1e6, totalMs: Number(total) / 1e6 };
}

async function main() {
  const o = new TenantOrchestrator({ configFile: file });
  await o.initialize();
  const sync = [];
  let bytes = 0;
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    const text = o.metricsText();
    sync.push(Number(process.hrtime.bigint() - t0) / 1e6);
    bytes = text.length;
  }
  const stall = [];
  const total = [];
  let sameSize = null;
  if (typeof o.metricsTextAsync === 'function') {
    for (let i = 0; i < reps; i++) {
      const r = await stallDuring(() => o.metricsTextAsync());
      stall.push(r.stallMs);
      total.push(r.totalMs);
      sameSize = r.out.length === bytes;
    }
  }
  await o.close();
  console.log(JSON.stringify({ sync, stall, total, bytes, sameSize }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
