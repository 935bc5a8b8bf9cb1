'use strict';
// `genesys-tenants doctor`: checks every tenant of a real config and says what to fix, in Genesys
// Cloud Admin terms. Probes are cheap reads (page size 1); nothing is written.
const { TenantOrchestrator } = require('../index.js');
const { parseArgs, noExtra, orchestratorOptions, CONFIG_FLAGS } = require('./args.js');
const { explainOperation } = require('../catalogue.js');
const { permissionText, scopeText } = require('./explain.js');
const { printable, safeJson } = require('./printable.js');

const USAGE = `usage: genesys-tenants doctor (--config-endpoint URL | --config-file PATH) [--uses LIST] [--gateway URL] [--json]

Validates every tenant entry, checks its region, obtains a token, shows the organization its client
belongs to (a mismatch with the entry's organizationId is a problem), probes the APIs the service uses,
and reads the rate-limit namespace. Exits 1 when any tenant has a problem.
  --uses LIST   areas the service calls: users,search,routing,analytics,organization (default: organization)
  --gateway URL send all traffic to one host (e.g. the emulator)
  --json        machine-readable output
The config service token is read from CONFIG_SERVICE_TOKEN.`;

const PROBES = {
  organization: { method: 'GET', path: '/api/v2/organizations/me' },
  users: { method: 'GET', path: '/api/v2/users', query: { pageSize: 1 } },
  search: { method: 'POST', path: '/api/v2/users/search', body: { pageSize: 1, query: [{ type: 'MATCH_ALL' }] } },
  routing: { method: 'GET', path: '/api/v2/routing/queues', query: { pageSize: 1 } },
  analytics: {
    method: 'POST',
    path: '/api/v2/analytics/conversations/details/query',
    body: { interval: '2024-01-01T00:00:00.000Z/2024-01-01T00:01:00.000Z', paging: { pageSize: 1, pageNumber: 1 } },
  },
};

/** "a" / "one of a, b" / "all of a, b", as a list of names with its mode. */
function which(list, mode) {
  if (list.length === 1) return list[0];
  return `${mode === 'ALL' ? 'all' : 'one'} of ${list.join(', ')}`;
}

function fixFor(err) {
  switch (err.code) {
    case 'PERMISSION_MISSING':
      return `grant ${which(err.missingPermissions, err.mode)} to a role of the OAuth client (Admin > Integrations > OAuth > client > Roles)`;
    case 'SCOPE_MISSING':
      return err.preflight
        ? `add ${which(err.missingScopes, err.mode)} to the OAuth client's scopes and to requiredScopes in the config`
        : `add ${which(err.missingScopes, err.mode)} to the OAuth client's scopes (Admin > Integrations > OAuth > client > Scope)`;
    case 'AUTH_FAILED':
      return 'the client id/secret pair is refused: check the secret (regenerated?) and that the region matches the org';
    case 'TENANT_INVALID':
      return `fix ${err.field} in the config entry: ${err.reason}`;
    case 'ORGANIZATION_MISMATCH':
      return `the OAuth client ${err.clientId} belongs to organization ${err.actualOrganizationId}, not ${err.expectedOrganizationId}: put this tenant's own client in its entry (or correct organizationId if the pin is wrong)`;
    case 'HOST_NOT_ALLOWED':
      return `region ${err.host} is not a Genesys Cloud region: use one such as mypurecloud.ie or eu-west-1 (or list the host in allowedHosts)`;
    case 'RATE_LIMITED':
      return `the org throttled the client (retry after ${err.retryAfterMs} ms): try again later, or lower the service's request rate`;
    default:
      // No advice beyond the error's own message: print none rather than the message twice.
      return null;
  }
}

async function main(argv) {
  const args = parseArgs(argv, { ...CONFIG_FLAGS, uses: 'string', json: 'boolean' });
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  noExtra(args, 0, 'doctor takes flags only');
  const uses = (args.uses || 'organization').split(',').map((s) => s.trim()).filter(Boolean);
  for (const u of uses) {
    if (!PROBES[u]) throw Object.assign(new Error(`unknown area '${u}' in --uses (known: ${Object.keys(PROBES).join(', ')})`), { code: 'USAGE' });
  }
  const o = new TenantOrchestrator({ ...orchestratorOptions(args), maxRetries: 1, maxRetryDelayMs: 5000, preflight: 'enforce' });
  const report = [];
  try {
    await o.initialize();
    const stats = o.stats();
    for (const [tenantId, s] of Object.entries(stats.tenants)) {
      const row = { tenantId, environment: s.environment ?? null, organization: null, token: null, rateLimitPerMinute: null, checks: [], problems: [] };
      report.push(row);
      if (!s.valid) {
        // Using the tenant gives its typed error, with the field and reason.
        const e = await o.getAccessToken(tenantId).then(() => s.error, (err) => err);
        row.problems.push({ code: e.code, message: e.message, fix: fixFor(e) });
        continue;
      }
      try {
        await o.getAccessToken(tenantId);
        row.token = 'ok';
      } catch (e) {
        row.token = e.code;
        if (e.code === 'ORGANIZATION_MISMATCH') row.organization = { id: e.actualOrganizationId, expected: e.expectedOrganizationId };
        row.problems.push({ code: e.code, message: e.message, fix: fixFor(e) });
        continue;
      }
      try {
        // The organization the client belongs to (what an entry's organizationId pins).
        const me = await o.request(tenantId, { path: '/api/v2/tokens/me' });
        const org = me.body && me.body.organization;
        if (org && typeof org.id === 'string') row.organization = { id: org.id, name: typeof org.name === 'string' ? org.name : null };
      } catch {
        // Introspection needs no permission; a tenant that still refuses it is reported by the probes below.
      }
      for (const area of uses) {
        try {
          await o.request(tenantId, PROBES[area]);
          row.checks.push(area);
        } catch (e) {
          // What the catalogue says the probed operation needs, beside what the server said.
          const op = explainOperation(PROBES[area].method, PROBES[area].path);
          const needs = op && `${PROBES[area].method} ${op.template} needs permissions ${permissionText(op.permissions)}; scopes ${scopeText(op.scopes)}`;
          row.problems.push({ area, code: e.code, message: e.message, fix: fixFor(e), needs });
        }
      }
      try {
        const ns = await o.request(tenantId, { path: '/api/v2/organizations/limits/namespaces/platform-api' });
        const limit = (ns.body.entities || []).find((x) => x.key === 'client.credentials.token.rate.per.minute');
        row.rateLimitPerMinute = limit ? limit.value : null;
      } catch {
        // Reading limits needs nothing special, but a tenant can still refuse it; not a problem.
      }
    }
  } finally {
    await o.close();
  }
  const bad = report.filter((r) => r.problems.length > 0);
  // Everything in the report came from the config or a server: the JSON keeps the exact text (with no
  // raw control character), the table prints it escaped, one line per item.
  if (args.json) {
    console.log(safeJson({ ok: bad.length === 0, tenants: report }, 2));
  } else {
    const p = printable;
    const org = (r) => (r.organization ? (r.organization.expected ? `${r.organization.id} (pinned: ${r.organization.expected})` : r.organization.id) : '-');
    const rows = report.map((r) => [p(r.tenantId), p(r.environment ?? '-'), p(org(r)), p(r.token ?? '-'), r.checks.join(',') || '-', p(r.rateLimitPerMinute ?? '-'), r.problems.length ? `${r.problems.length} problem(s)` : 'ok']);
    const head = ['tenant', 'region', 'organization', 'token', 'checks passed', 'rate/min', 'status'];
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
    const line = (r) => r.map((v, i) => String(v).padEnd(w[i])).join('  ');
    console.log(line(head));
    for (const r of rows) console.log(line(r));
    for (const r of bad) {
      console.log(`\n${p(r.tenantId)}:`);
      for (const x of r.problems) {
        console.log(`  ✘ ${x.area ? `[${x.area}] ` : ''}${p(x.code)}: ${p(x.message)}`);
        if (x.fix) console.log(`    fix: ${p(x.fix)}`);
        if (x.needs) console.log(`    catalogue: ${p(x.needs)}`);
      }
    }
    console.log(bad.length ? `\n${bad.length} of ${report.length} tenants need attention` : `\nall ${report.length} tenants healthy`);
  }
  return bad.length ? 1 : 0;
}

module.exports = { main, USAGE };
