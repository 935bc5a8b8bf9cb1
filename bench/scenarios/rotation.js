'use strict';
// Rotation under load: 2,000 calls paced over 10 s while, halfway, the tenant's secret is regenerated
// (the config service serves the new one) and its issued tokens are revoked — the harshest reading of
// "the secret was rotated". Target: no failed call.
const platformClient = require('purecloud-platform-client-v2');
const { TenantOrchestrator } = require('../../lib/index.js');
const tutorial = require('../tutorial-pattern.js');
const { startEmulator } = require('../lib/emulator.js');
const { cell, sleep, yes } = require('../lib/measure.js');

const CALLS = 2000;
const DURATION_MS = 10_000;
const PATH = '/api/v2/organizations/me';

/** Fires `call` CALLS times at an even pace; rotates at the middle; counts failures. */
async function paced(emu, clientId, call) {
  const t0 = Date.now();
  const pending = [];
  let failed = 0;
  let rotation;
  for (let i = 0; i < CALLS; i++) {
    const due = t0 + (i * DURATION_MS) / CALLS;
    const now = Date.now();
    if (due > now) await sleep(due - now);
    if (i === CALLS / 2) {
      rotation = emu.control('POST', `clients/${clientId}/secret`, {}).then(() => emu.control('POST', `clients/${clientId}/revoke`, {}));
    }
    pending.push(call().catch(() => failed++));
  }
  await rotation;
  await Promise.all(pending);
  return { failed, ms: Date.now() - t0 };
}

module.exports = async function rotation({ runs }) {
  const emu = await startEmulator();
  const acme = (await emu.tenants()).find((t) => t.tenantId === 'acme');
  await emu.control('PATCH', `clients/${acme.clientId}`, { rateLimit: { limit: 1_000_000, windowSeconds: 60 } });
  const gateway = { host: '127.0.0.1', port: emu.port, protocol: 'http' };
  const ours = [];
  const tut = [];
  try {
    for (let r = 0; r < runs; r++) {
      const o = new TenantOrchestrator({ configEndpoint: emu.url, configServiceToken: emu.configServiceToken, gateway: emu.gateway, rateLimitPerMinute: 1_000_000 });
      await o.initialize();
      ours.push((await paced(emu, acme.clientId, () => o.request('acme', { path: PATH }))).failed);
      await o.close();

      const t = new tutorial.TenantOrchestrator({ configEndpoint: emu.url, configServiceToken: emu.configServiceToken, gateway });
      await t.initialize();
      tut.push(
        (
          await paced(emu, acme.clientId, async () => {
            const client = await t.getTenantClient('acme');
            return tutorial.executeWithScopeValidation(client, () => new platformClient.OrganizationApi(client).getOrganizationsMe(), []);
          })
        ).failed,
      );
      t.close();
      process.stderr.write(`  rotation: run ${r + 1}/${runs}\n`);
    }
  } finally {
    await emu.stop();
  }
  const n = (xs) => cell(xs, (x) => String(Math.round(x)));
  const markdown = `## Rotation under load

${CALLS} calls paced evenly over ${DURATION_MS / 1000} s; after ${CALLS / 2}, the tenant's secret is regenerated (the config service
serves the new one) and every token issued to the client is revoked. ${runs} runs, failed calls, median (min–max).

| client | failed calls of ${CALLS} |
|---|---|
| genesys-tenants request() | ${n(ours)} |
| tutorial pattern | ${n(tut)} |

The pipeline meets the revoked token's 401, drops the token, and on \`invalid_client\` with the old secret re-reads the
config once, gets the new secret and a new token, and retries the call. The tutorial pattern keeps serving its
cached token (55-minute TTL): every call after the rotation fails until its \`setInterval\` rotation runs.
`;
  return { markdown, verdicts: [['rotation under load: no failed call', ours.every((f) => f === 0)]] };
};
