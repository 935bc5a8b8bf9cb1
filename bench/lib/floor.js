'use strict';
// The floor every call scenario compares with: node:http with a static token, the best a plain Node client does.
const http = require('node:http');

/**
 * The emulator's tenant `tenantId` with a rate limit that never binds, and a token for it obtained once
 * (the floor's static token).
 */
async function unlimitedTenant(emu, tenantId) {
  const t = (await emu.tenants()).find((x) => x.tenantId === tenantId);
  await emu.control('PATCH', `clients/${t.clientId}`, { rateLimit: { limit: 100_000_000, windowSeconds: 60 } });
  const login = await fetch(`${emu.url}/oauth/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(`${t.clientId}:${t.clientSecret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const { access_token: token } = await login.json();
  return { tenant: t, token };
}

/** GET `path` on 127.0.0.1:`port` with node:http, keep-alive, at most `concurrency` sockets. */
function floorCaller(port, token, { path, concurrency }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const call = () =>
    new Promise((resolve, reject) => {
      // `http.request` looked up at each call: OpenTelemetry's HTTP instrumentation patches the module's export while enabled.
      const req = http.request({ host: '127.0.0.1', port, path, agent, headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  return { call, close: () => agent.destroy() };
}

module.exports = { unlimitedTenant, floorCaller };
