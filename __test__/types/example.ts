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
  type TenantClient,
  isGenesysTenantsError,
} from 'genesys-tenants';
import { startEmulator, type Emulator } from 'genesys-tenants/testing';
import platformClient = require('purecloud-platform-client-v2');
import { metrics, trace } from '@opentelemetry/api';

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
    if (!isGenesysTenantsError(err)) throw err;
    // The union narrows on `code`: each case's fields are there, typed, without `?.`.
    switch (err.code) {
      case 'PERMISSION_MISSING': {
        const missing: string[] = err.missingPermissions;
        const mode: 'ANY' | 'ALL' = err.mode;
        void [missing, mode];
        break;
      }
      case 'SCOPE_MISSING': {
        const scopes: string[] = err.missingScopes;
        const before: boolean = err.preflight;
        void [scopes, before];
        break;
      }
      case 'RATE_LIMITED': {
        const ms: number = err.retryAfterMs;
        void ms;
        break;
      }
      case 'UNKNOWN_METHOD':
        void err.suggestions.join(', ');
        break;
      case 'TIMEOUT':
        void (err.timeoutMs + 1);
        break;
      default: {
        const code: ErrorCode | 'NATIVE_BINDING_MISSING' = err.code;
        // @ts-expect-error: only PERMISSION_MISSING carries missingPermissions
        void err.missingPermissions;
        void code;
      }
    }
  }
  // Bounds on a call: a deadline and an AbortSignal.
  const ac = new AbortController();
  await o.request('acme', { path: '/api/v2/users/me', timeoutMs: 5000, signal: ac.signal });
  await o.fetchAll('acme', { path: '/api/v2/users' }, { timeoutMs: 60_000, signal: AbortSignal.timeout(60_000) });
  await o.getAccessToken('acme', { signal: ac.signal });
  // Without a type argument a body is `unknown`, not `any`.
  const untyped = await o.request('acme', { path: '/api/v2/users/me' });
  // @ts-expect-error: unknown must be narrowed first
  void untyped.body.name;
  // The tenant client is the SDK's ApiClientClass (its typings are installed here).
  const client: TenantClient = o.getTenantClient('acme');
  const users = new platformClient.UsersApi(client);
  void users.getUsers({ pageSize: 10 });
  client.setReturnExtendedResponses(false);
  // @ts-expect-error: not an ApiClientClass method
  client.notAMethod();
  const me = await client.api.usersApi.getUsersMe();
  void me.status;
  // Literal unions for options.
  // @ts-expect-error: not a preflight mode
  new TenantOrchestrator({ configFile: 'x.json', preflight: 'sometimes' });
  // @ts-expect-error: not a page style
  await o.fetchAll('acme', { path: '/api/v2/users' }, { style: 'pages' });
  const diff = await o.reloadConfig();
  void diff.added.concat(diff.removed, diff.changed);
  void ErrorCodes.includes('CLOSED');
  void o.stats().tenants;
  // The webhook handler takes what Node's http gives it, structurally (no @types/node needed).
  const hook = o.rotationWebhook({ secret: 'whsec-0123456789abcdef', toleranceMs: 60_000 });
  const hookRes = { statusCode: 0, setHeader: (_n: string, _v: string | number) => undefined, end: (_c?: string) => undefined };
  await hook({ headers: { 'x-genesys-tenants-signature': 't=1,v1=00' }, body: '{}' }, hookRes);
  // @ts-expect-error: the secret is required
  o.rotationWebhook({ toleranceMs: 1000 });
  const ok: number | undefined = o.metrics().tenants['acme']?.calls.OK;
  const limited: number | undefined = o.metrics().tenants['acme']?.calls.RATE_LIMITED;
  const text: string = o.metricsText();
  const rendered: string = await o.metricsTextAsync();
  // OpenTelemetry: a real Meter and TracerProvider fit the structural types.
  const unregister: () => void = o.registerOpenTelemetryMetrics(metrics.getMeter('svc'));
  unregister();
  void new TenantOrchestrator({ configEndpoint: 'http://127.0.0.1:1', openTelemetry: { tracerProvider: trace.getTracerProvider(), propagateContext: true } });
  void new TenantOrchestrator({ configEndpoint: 'http://127.0.0.1:1', openTelemetry: true });
  // @ts-expect-error: propagateContext is a boolean
  void new TenantOrchestrator({ configEndpoint: 'http://127.0.0.1:1', openTelemetry: { propagateContext: 'yes' } });
  void [token, name, firstId, ok, limited, text, rendered];
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

// The emulator for a consumer's own tests.
async function testing(): Promise<void> {
  const emu: Emulator = await startEmulator({ world: { orgs: [{ id: 'o1', name: 'Org One', region: 'mypurecloud.ie' }], clients: [{ tenantId: 't1', clientId: 'c1', orgId: 'o1' }] } });
  const o = new TenantOrchestrator(emu.options({ maxRetries: 1 }));
  await o.initialize();
  const counters = await emu.control<{ tokenRequests: number }>('GET', 'counters/c1');
  void counters.tokenRequests;
  void emu.gateway.port.toFixed();
  // The Notifications API's controls.
  await emu.notifications.settings({ heartbeatMs: 1000, connectUriBase: null });
  const pub = await emu.notifications.publish('v2.users.u1.presence', { count: 3, ratePerSecond: 100, orgId: 'o1' });
  void pub.queued.toFixed();
  await emu.notifications.socketClosing({ clientId: 'c1' }, { graceMs: 1000 });
  void (await emu.notifications.counters()).liveSockets.toFixed();
  await o.close();
  await emu.stop();
}

void main;
void tutorial;
void testing;
