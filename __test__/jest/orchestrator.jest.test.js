// The package inside Jest: the addon loads in Jest's module registry, calls work against the
// emulator, fake timers in the user's test do not disturb it (its timers live in Rust), and
// close() leaves no open handle (run with --detectOpenHandles).
const { TenantOrchestrator, ErrorCodes } = require('../../lib/index.js');
const { startEmulator } = require('./emulator.js');

let emu;
let o;

beforeAll(async () => {
  emu = await startEmulator();
  o = new TenantOrchestrator({
    configEndpoint: emu.url,
    configServiceToken: emu.configServiceToken,
    gateway: emu.gateway,
    configPollIntervalMs: 200,
  });
  await o.initialize();
});

afterAll(async () => {
  await o.close();
  await emu.stop();
});

test('the addon loads and lists the tenants', () => {
  expect(o.tenantIds()).toEqual(expect.arrayContaining(['acme', 'acme-corp', 'globex']));
  expect(ErrorCodes).toContain('RATE_LIMITED');
});

test('calls work and errors are typed', async () => {
  const me = await o.request('acme', { path: '/api/v2/organizations/me' });
  expect(me.status).toBe(200);
  await expect(o.request('globex', { method: 'POST', path: '/api/v2/users/search', body: {} })).rejects.toMatchObject({
    code: 'PERMISSION_MISSING',
    missingPermissions: ['directory:user:view'],
  });
});

test('fake timers in the test do not break the library', async () => {
  jest.useFakeTimers();
  try {
    const token = await o.getAccessToken('acme-corp');
    expect(typeof token).toBe('string');
    const users = await o.fetchAll('acme-corp', { path: '/api/v2/users' }, { pageSize: 500 });
    expect(users.entities).toHaveLength(1234);
    jest.advanceTimersByTime(3_600_000); // an hour of fake time changes nothing for Rust's clock
    expect((await o.request('acme-corp', { path: '/api/v2/organizations/me' })).status).toBe(200);
  } finally {
    jest.useRealTimers();
  }
});

test("the tutorial helpers' retry waits are timed in Rust, so fake timers do not stall them", async () => {
  const { fetchWithPaginationAndRetry } = require('../../lib/index.js');
  jest.useFakeTimers();
  try {
    let calls = 0;
    const all = await fetchWithPaginationAndRetry(async (nextPage) => {
      calls += 1;
      if (calls === 2) {
        // A 429 as the official SDK's default mode rejects with it: the server's body.
        throw { status: 429, code: 'too.many.requests', message: 'Rate limit exceeded the maximum. Retry the request in [1] seconds' };
      }
      return { entities: [nextPage ?? 1], pageCount: 2 };
    }, 2);
    expect(all).toEqual({ entities: [1, 2], totalCount: 2 });
    expect(calls).toBe(3);
  } finally {
    jest.useRealTimers();
  }
});
