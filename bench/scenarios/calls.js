'use strict';
// Latency at concurrency 1 and throughput at concurrency 64 of GET /api/v2/organizations/me, five
// contenders on one emulator, interleaved in every run so machine noise hits them alike.
const platformClient = require('purecloud-platform-client-v2');
const { TenantOrchestrator } = require('../../lib/index.js');
const tutorial = require('../tutorial-pattern.js');
const { startEmulator } = require('../lib/emulator.js');
const { unlimitedTenant, floorCaller } = require('../lib/floor.js');
const { median, cell, latency, throughput, yes } = require('../lib/measure.js');

const PATH = '/api/v2/organizations/me';
const CONCURRENCY = 64;


module.exports = async function calls({ runs, latencyCalls, throughputMs }) {
  const emu = await startEmulator();
  const { token } = await unlimitedTenant(emu, 'acme-corp');

  const floor = floorCaller(emu.port, token, { path: PATH, concurrency: CONCURRENCY });
  const sdk = new platformClient.ApiClientClass();
  sdk.config.live_reload_config = false;
  sdk.setGateway({ host: '127.0.0.1', port: emu.port, protocol: 'http' });
  sdk.setAccessToken(token);
  const sdkOrg = new platformClient.OrganizationApi(sdk);
  const tut = new tutorial.TenantOrchestrator({ configEndpoint: emu.url, configServiceToken: emu.configServiceToken, gateway: { host: '127.0.0.1', port: emu.port, protocol: 'http' } });
  await tut.initialize();
  const tutorialCall = async () => {
    const client = await tut.getTenantClient('acme-corp');
    return tutorial.executeWithScopeValidation(client, () => new platformClient.OrganizationApi(client).getOrganizationsMe(), ['organization:readonly']);
  };
  const o = new TenantOrchestrator({ configEndpoint: emu.url, configServiceToken: emu.configServiceToken, gateway: emu.gateway, rateLimitPerMinute: 1_000_000 });
  await o.initialize();
  const bridgeOrg = new platformClient.OrganizationApi(o.getTenantClient('acme-corp'));

  const contenders = [
    ['floor: node:http, static token', floor.call],
    ['official SDK, one ApiClient, token set once', () => sdkOrg.getOrganizationsMe()],
    ['tutorial pattern (CredentialManager + SDK)', tutorialCall],
    ['genesys-tenants request()', () => o.request('acme-corp', { path: PATH })],
    ['genesys-tenants via getTenantClient()', () => bridgeOrg.getOrganizationsMe()],
  ];
  const results = contenders.map(([name]) => ({ name, p50: [], p99: [], rps: [] }));
  for (let run = 0; run < runs; run++) {
    for (const [i, [, call]] of contenders.entries()) {
      const l = await latency(call, latencyCalls);
      results[i].p50.push(l.p50);
      results[i].p99.push(l.p99);
      results[i].rps.push(await throughput(call, throughputMs, CONCURRENCY));
    }
    process.stderr.write(`  calls: run ${run + 1}/${runs}\n`);
  }
  floor.close();
  tut.close();
  await o.close();
  await emu.stop();

  const [f, sdkR, tutR, req, bridge] = results;
  const ms = (x) => `${x.toFixed(3)} ms`;
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${cell(r.p50, (x) => x.toFixed(3))} ms | ${(median(r.p50) / median(f.p50)).toFixed(2)} | ${ms(median(r.p99))} | ${(median(r.p99) / median(f.p99)).toFixed(2)} | ${cell(r.rps, (x) => String(Math.round(x)))} | ${(median(r.rps) / median(f.rps)).toFixed(2)} |`,
  );
  const verdicts = [
    ['request() p50 at c=1 ≤ 1.05× the floor', median(req.p50) / median(f.p50) <= 1.05],
    ['request() throughput at c=64 ≥ 0.95× the floor', median(req.rps) / median(f.rps) >= 0.95],
    ['request() throughput ≥ 2× the official SDK', median(req.rps) / median(sdkR.rps) >= 2],
  ];
  const markdown = `## Calls: latency and throughput

${latencyCalls} sequential calls (concurrency 1, after 50 warm-up calls) for p50/p99, then ${CONCURRENCY} concurrent
loops for ${throughputMs} ms; \`GET ${PATH}\`; ${runs} interleaved runs, medians (min–max).

| contender | p50 latency | p50 ÷ floor | p99 | p99 ÷ floor | requests/s at c=${CONCURRENCY} | ÷ floor |
|---|---|---|---|---|---|---|
${rows.join('\n')}

The SDK through \`getTenantClient()\` serves ${(median(bridge.rps) / median(sdkR.rps)).toFixed(1)}× the official SDK's throughput and the
tutorial pattern ${(median(tutR.rps) / median(sdkR.rps)).toFixed(2)}× it: the pattern adds little per call — its cost is elsewhere
(storms, 429s, rotation, below). \`request()\` can beat the floor because its HTTP (pool, parsing, headers) runs in
Rust on the addon's threads, while the floor does all of it on Node's one JS thread; the floor is the best a plain
Node client does, not a physical limit. The same design costs latency at concurrency 1: every \`request()\` makes one round
trip from Node's thread to the addon's runtime and back (the "through the runtime" row under Cached tokens), which
the floor, doing its HTTP on Node's own thread, never pays. That hop is as large as the p50 gap (two thread wake-ups;
on a VM an idle vCPU is slow to wake), while the pipeline's own per-call work is well under a microsecond (see the
criterion table).
`;
  return { markdown, verdicts };
};
