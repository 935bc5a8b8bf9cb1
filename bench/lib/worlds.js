'use strict';
// World files for the emulator beyond the demo world: many tenants, and an org with many users.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const GENEROUS = { limit: 1_000_000, windowSeconds: 60 };

/**
 * `tenants` tenants `t000`… on one small org (every permission), plus tenant `pager` on an org of
 * `users` users; generous rate limits unless a scenario tightens them. Returns the file's path.
 */
function bigWorld({ tenants = 100, users = 10_000 } = {}) {
  const world = {
    orgs: [
      { id: 'org-small', name: 'Small Org', region: 'mypurecloud.ie', users: 5, queues: 1 },
      { id: 'org-big', name: 'Big Org', region: 'mypurecloud.com', users, queues: 1 },
    ],
    clients: [
      ...Array.from({ length: tenants }, (_, i) => ({
        tenantId: `t${String(i).padStart(3, '0')}`,
        clientId: `client-${i}`,
        orgId: 'org-small',
        permissions: [],
        rateLimit: GENEROUS,
        tokenRateLimit: GENEROUS,
      })),
      { tenantId: 'pager', clientId: 'client-pager', orgId: 'org-big', permissions: [], rateLimit: GENEROUS, tokenRateLimit: GENEROUS },
    ],
    rateLimitHeaders: true,
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-bench-'));
  const file = path.join(dir, 'world.json');
  fs.writeFileSync(file, JSON.stringify(world));
  return file;
}

module.exports = { bigWorld };
