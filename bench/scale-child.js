'use strict';
// One scale measurement in a fresh process (so RSS means something): `node scale-child.js ours FILE`
// or `node scale-child.js sdk N`. Prints one JSON line. Run with --expose-gc.
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');

const threads = () => Number((fs.readFileSync('/proc/self/status', 'utf8').match(/^Threads:\s+(\d+)/m) || [0, 0])[1]);
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    global.gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
};

async function ours(file, oneFile) {
  const { TenantOrchestrator } = require('../lib/index.js');
  // A one-tenant orchestrator first, so the runtime, pools and code pages are in the baseline.
  const base = new TenantOrchestrator({ configFile: oneFile });
  await base.initialize();
  await settle();
  const rss0 = process.memoryUsage().rss;
  const threads0 = threads();
  const t0 = performance.now();
  const o = new TenantOrchestrator({ configFile: file });
  const ids = await o.initialize();
  const initMs = performance.now() - t0;
  await settle();
  const rss1 = process.memoryUsage().rss;
  const threads1 = threads();
  await o.close();
  await base.close();
  return { tenants: ids.length, initMs, rssPerTenant: (rss1 - rss0) / ids.length, threads0, threads1 };
}

async function sdk(n) {
  const platformClient = require('purecloud-platform-client-v2');
  await settle();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const clients = [];
  for (let i = 0; i < n; i++) {
    const c = new platformClient.ApiClientClass();
    c.config.live_reload_config = false;
    c.setEnvironment('mypurecloud.ie');
    clients.push(c);
  }
  const initMs = performance.now() - t0;
  await settle();
  const rss1 = process.memoryUsage().rss;
  return { tenants: clients.length, initMs, rssPerTenant: (rss1 - rss0) / clients.length, threads0: threads(), threads1: threads() };
}

const [mode, arg, arg2] = process.argv.slice(2);
(mode === 'ours' ? ours(arg, arg2) : sdk(Number(arg))).then(
  (r) => {
    process.stdout.write(JSON.stringify(r) + '\n');
    process.exit(0);
  },
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
