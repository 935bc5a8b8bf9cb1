// Type test: compiled with `tsc --noEmit` by `npm test`. It must type-check against the bundled
// typings exactly as a TypeScript user would write it.
import {
  TenantOrchestrator,
  ErrorCodes,
  fetchTenantConfig,
  executeWithScopeValidation,
  fetchWithPaginationAndRetry,
  type ErrorCode,
  type GenesysTenantsError,
  type OrchestratorEvent,
  type Page,
  type TenantConfigEntry,
} from 'genesys-tenants';

async function main(): Promise<void> {
  const o = new TenantOrchestrator({
    configEndpoint: 'http://127.0.0.1:8080',
    gateway: { protocol: 'http', host: '127.0.0.1', port: 8080 },
    refreshAheadRatio: 0.1,
    maxRetries: 3,
    preflight: 'warn',
  });
  const ids: string[] = await o.initialize();
  const token: string = await o.getAccessToken(ids[0]);
  const res = await o.request<{ name: string }>('acme', { method: 'GET', path: '/api/v2/organizations/me', query: { expand: ['x'] } });
  const name: string = res.body.name;
  const all = await o.fetchAll<{ id: string }>('acme', { path: '/api/v2/users' }, { pageSize: 100, maxPages: 50 });
  const firstId: string | undefined = all.entities[0]?.id;
  for await (const page of o.paginate('acme', { path: '/api/v2/users' })) {
    const p: Page = page;
    void p.items.length;
  }
  const off: () => void = o.onEvent((e: OrchestratorEvent) => {
    if (e.type === 'token.refreshed') void e.tenantId;
  });
  off();
  try {
    await o.rotateCredentials('acme');
  } catch (err) {
    const e = err as GenesysTenantsError;
    const code: ErrorCode = e.code;
    if (e.code === 'PERMISSION_MISSING') void e.missingPermissions?.join(',');
    void code;
  }
  const diff = await o.reloadConfig();
  void diff.added.concat(diff.removed, diff.changed);
  void ErrorCodes.includes('CLOSED');
  void o.stats().tenants;
  void [token, name, firstId];
  await o.close();
}

// The tutorial's names, with its call shapes.
async function tutorial(): Promise<void> {
  const tenants = await fetchTenantConfig('http://127.0.0.1:8080', { configServiceToken: 't' });
  for (const [tenantId, config] of tenants) {
    const secret: string = config.clientSecret;
    const every: number = config.rotationIntervalMs;
    void [tenantId, secret, every, config.scopes.join(' ')];
  }
  const first: TenantConfigEntry | undefined = tenants.get('acme');
  void tenants.invalid.map((e) => e.code === 'HOST_NOT_ALLOWED' || e.field);
  const o = new TenantOrchestrator('http://127.0.0.1:8080');
  await o.initialize();
  for (const [tenantId, config] of o.tenantConfigs) o.scheduleRotation(tenantId, config);
  const r = await o.credentialManager.rotateCredentials('acme');
  void r.rotated.length;
  const token: string = await o.credentialManager.fetchAccessToken(first ?? 'acme');
  o.assertScopes('acme', ['users:readonly']);
  const client = await o.getTenantClient('acme');
  const n: number = await executeWithScopeValidation(client, async () => 42, ['users:readonly']);
  const users = await fetchWithPaginationAndRetry<{ id: string }>(async (nextToken, { pageNumber }) => ({ entities: [{ id: `${pageNumber}${nextToken ?? ''}` }] }), 3, {
    maxPages: 10,
  });
  const id: string = users.entities[0].id;
  const total: number = users.totalCount;
  try {
    await fetchWithPaginationAndRetry(async () => ({}));
  } catch (err) {
    void (err as GenesysTenantsError).partialEntities?.length;
  }
  void [n, id, total, token];
  await o.close();
}

void main;
void tutorial;
