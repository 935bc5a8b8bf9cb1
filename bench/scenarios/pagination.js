'use strict';
// Pagination: 10,000 users in pages of 100 — fetchAll() (pages 2… fetched concurrently once page 1
// gives the total) against sequential paging, ours and the official SDK's. Every run checks that
// exactly the 10,000 distinct users came back.
const platformClient = require('purecloud-platform-client-v2');
const { TenantOrchestrator, fetchWithPaginationAndRetry } = require('../../lib/index.js');
const { startEmulator } = require('../lib/emulator.js');
const { bigWorld } = require('../lib/worlds.js');
const { median, cell, timed, yes } = require('../lib/measure.js');

const USERS = 10_000;
const PAGE = 100;

function exact(users) {
  const ids = new Set(users.map((u) => u.id));
  if (users.length !== USERS || ids.size !== USERS) throw new Error(`pagination returned ${users.length} users, ${ids.size} distinct; expected ${USERS}`);
}

module.exports = async function pagination({ runs }) {
  const emu = await startEmulator(['--world', bigWorld({ tenants: 1, users: USERS })]);
  const pager = (await emu.tenants()).find((t) => t.tenantId === 'pager');
  const o = new TenantOrchestrator({ configEndpoint: emu.url, configServiceToken: emu.configServiceToken, gateway: emu.gateway, rateLimitPerMinute: 1_000_000 });
  await o.initialize();
  const sdk = new platformClient.ApiClientClass();
  sdk.config.live_reload_config = false;
  sdk.setGateway({ host: '127.0.0.1', port: emu.port, protocol: 'http' });
  await sdk.loginClientCredentialsGrant(pager.clientId, pager.clientSecret);
  const sdkUsers = new platformClient.UsersApi(sdk);
  const bridgeUsers = new platformClient.UsersApi(o.getTenantClient('pager'));
  const req = { path: '/api/v2/users' };

  const contenders = [
    ['genesys-tenants fetchAll() (4 pages at a time)', async () => (await o.fetchAll('pager', req, { pageSize: PAGE })).entities],
    ['genesys-tenants fetchAll(), concurrency 1', async () => (await o.fetchAll('pager', req, { pageSize: PAGE, concurrency: 1 })).entities],
    [
      'genesys-tenants paginate() (sequential)',
      async () => {
        const all = [];
        for await (const page of o.paginate('pager', req, { pageSize: PAGE })) all.push(...page.items);
        return all;
      },
    ],
    ['official SDK, sequential pages', async () => {
      const all = [];
      for (let n = 1; ; n++) {
        const page = await sdkUsers.getUsers({ pageSize: PAGE, pageNumber: n });
        all.push(...page.entities);
        if (n >= page.pageCount) return all;
      }
    }],
    ['fetchWithPaginationAndRetry over getTenantClient()', async () => (await fetchWithPaginationAndRetry((n) => bridgeUsers.getUsers({ pageSize: PAGE, pageNumber: n ?? 1 }))).entities],
  ];
  const times = contenders.map(() => []);
  try {
    for (const [, fn] of contenders) exact(await fn()); // warm-up and correctness
    for (let r = 0; r < runs; r++) {
      for (const [i, [, fn]] of contenders.entries()) {
        const { ms, value } = await timed(fn);
        exact(value);
        times[i].push(ms);
      }
      process.stderr.write(`  pagination: run ${r + 1}/${runs}\n`);
    }
  } finally {
    await o.close();
    await emu.stop();
  }
  const seq = median(times[2]);
  const rows = contenders.map(([name], i) => `| ${name} | ${cell(times[i], (x) => x.toFixed(0))} ms | ${(median(times[i]) / seq).toFixed(2)} |`);
  const markdown = `## Pagination

${USERS.toLocaleString('en')} users of one org, \`GET /api/v2/users\` in pages of ${PAGE}; each run checks that exactly ${USERS.toLocaleString('en')} distinct
users came back. ${runs} runs, median (min–max).

| client | time | ÷ sequential paginate() |
|---|---|---|
${rows.join('\n')}
`;
  return { markdown, verdicts: [['pagination: fetchAll() faster than sequential paging, nothing lost or doubled', median(times[0]) < seq]] };
};
