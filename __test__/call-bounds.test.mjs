// Time bounds on a call (issue 16): `timeoutMs` is one deadline for the whole call — limiter waits,
// 429 holds, retries and the token included — and `signal` aborts it; an aborted call rejects with
// ABORTED and sends nothing more. `maxRetryDelayMs` caps the waiting, limiter waits included.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TenantOrchestrator } from '../lib/index.mjs';
import { startEmulator } from './helpers.mjs';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

async function ready(extra = {}) {
  const o = new TenantOrchestrator(emu.options(extra));
  await o.initialize();
  return o;
}

async function apiRequests(tenantId) {
  const c = await emu.counters(tenantId);
  return c.apiCallsTotal;
}

test('timeoutMs bounds a request held by a slow answer: TIMEOUT naming the deadline, the request aborted', async (t) => {
  const o = await ready();
  t.after(() => o.close());
  await o.getAccessToken('acme');
  const fault = await emu.control('POST', 'faults', { path: '/api/v2/organizations/me', status: 0, latencyMs: 5000 });
  t.after(() => emu.control('DELETE', `faults/${fault.id}`).catch(() => {}));
  const started = Date.now();
  await assert.rejects(o.request('acme', { path: '/api/v2/organizations/me', timeoutMs: 300 }), (e) => {
    assert.equal(e.code, 'TIMEOUT');
    assert.equal(e.name, 'GenesysTenantsError');
    assert.equal(e.timeoutMs, 300);
    assert.equal(e.tenantId, 'acme');
    return true;
  });
  const took = Date.now() - started;
  assert.ok(took >= 290 && took < 3000, `rejected after ${took} ms`);
});

/** Two requests per 60 s for `tenantId`'s client (the API says so in inin-ratelimit-allowed, and the limiter learns it). */
async function twoPerMinute(t, tenantId) {
  const clientId = await emu.clientId(tenantId);
  await emu.control('PATCH', `clients/${clientId}`, { rateLimit: { limit: 2, windowSeconds: 60 } });
  t.after(() => emu.control('PATCH', `clients/${clientId}`, { rateLimit: { limit: 300, windowSeconds: 60 } }));
}

test('the deadline includes the client-side limiter: a call that would wait past it fails, not waits', async (t) => {
  // The third call of the window must wait ~60 s for the limiter.
  await twoPerMinute(t, 'acme');
  const o = await ready({ rateLimitPerMinute: 2 });
  t.after(() => o.close());
  await o.request('acme', { path: '/api/v2/organizations/me' });
  await o.request('acme', { path: '/api/v2/organizations/me' });
  const before = await apiRequests('acme');
  const started = Date.now();
  await assert.rejects(o.request('acme', { path: '/api/v2/organizations/me', timeoutMs: 400 }), (e) => ['TIMEOUT', 'RATE_LIMITED'].includes(e.code));
  assert.ok(Date.now() - started < 3000, 'the limiter wait did not outlast the deadline');
  assert.equal(await apiRequests('acme'), before, 'nothing was sent');
});

test('maxRetryDelayMs caps limiter waits too: a 60 s limiter wait fails fast with RATE_LIMITED', async (t) => {
  await twoPerMinute(t, 'acme');
  const o = await ready({ rateLimitPerMinute: 2, maxRetryDelayMs: 1000 });
  t.after(() => o.close());
  await o.request('acme', { path: '/api/v2/organizations/me' });
  await o.request('acme', { path: '/api/v2/organizations/me' });
  const started = Date.now();
  await assert.rejects(o.request('acme', { path: '/api/v2/organizations/me' }), (e) => e.code === 'RATE_LIMITED' && e.retryAfterMs > 1000);
  assert.ok(Date.now() - started < 1500, `waited ${Date.now() - started} ms with maxRetryDelayMs 1000`);
});

test('an AbortSignal aborts a request in flight: ABORTED with the reason as cause, nothing sent after', async (t) => {
  const o = await ready();
  t.after(() => o.close());
  await o.getAccessToken('acme');
  const fault = await emu.control('POST', 'faults', { path: '/api/v2/organizations/me', status: 0, latencyMs: 5000 });
  t.after(() => emu.control('DELETE', `faults/${fault.id}`).catch(() => {}));
  const ac = new AbortController();
  const pending = o.request('acme', { path: '/api/v2/organizations/me', signal: ac.signal });
  setTimeout(() => ac.abort(new Error('user went away')), 100);
  await assert.rejects(pending, (e) => {
    assert.equal(e.code, 'ABORTED');
    assert.equal(e.tenantId, 'acme');
    assert.equal(e.cause?.message, 'user went away');
    return true;
  });
  const after = await apiRequests('acme');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await apiRequests('acme'), after, 'no retry was sent after the abort');
});

test('an already-aborted signal rejects at once and sends nothing, token included', async (t) => {
  const o = await ready();
  t.after(() => o.close());
  const before = await emu.counters('globex');
  const signal = AbortSignal.abort(new Error('too late'));
  await assert.rejects(o.request('globex', { path: '/api/v2/routing/queues', signal }), (e) => e.code === 'ABORTED' && e.cause.message === 'too late');
  await assert.rejects(o.getAccessToken('globex', { signal }), (e) => e.code === 'ABORTED');
  await assert.rejects(o.fetchAll('globex', { path: '/api/v2/routing/queues' }, { signal }), (e) => e.code === 'ABORTED');
  const after = await emu.counters('globex');
  assert.equal(after.tokenRequests, before.tokenRequests, 'no token request');
  assert.equal(after.apiCallsTotal, before.apiCallsTotal, 'no API call');
});

test('fetchAll and paginate take timeoutMs and signal in their options; an aborted listing stops', async (t) => {
  const o = await ready();
  t.after(() => o.close());
  // The whole 1,234-user listing within a generous deadline: exact items.
  const all = await o.fetchAll('acme-corp', { path: '/api/v2/users' }, { pageSize: 100, timeoutMs: 60_000 });
  assert.equal(all.entities.length, 1234);
  // Abort after the second page of a paginated walk: the iterator rejects, no third page is sent.
  const ac = new AbortController();
  const pages = [];
  const before = await apiRequests('acme-corp');
  await assert.rejects(
    (async () => {
      for await (const page of o.paginate('acme-corp', { path: '/api/v2/users' }, { pageSize: 100, signal: ac.signal })) {
        pages.push(page.index);
        if (pages.length === 2) ac.abort();
      }
    })(),
    (e) => e.code === 'ABORTED',
  );
  assert.deepEqual(pages, [1, 2]);
  assert.equal((await apiRequests('acme-corp')) - before, 2, 'exactly the two pages were fetched');
});

test('bad bounds are INVALID_OPTIONS naming them', async (t) => {
  const o = await ready();
  t.after(() => o.close());
  const invalid = (option) => (e) => e.code === 'INVALID_OPTIONS' && e.option === option;
  await assert.rejects(o.request('acme', { path: '/api/v2/organizations/me', timeoutMs: 0 }), invalid('timeoutMs'));
  await assert.rejects(o.request('acme', { path: '/api/v2/organizations/me', timeoutMs: '5s' }), invalid('timeoutMs'));
  await assert.rejects(o.request('acme', { path: '/api/v2/organizations/me', timeoutMs: 1.5 }), invalid('timeoutMs'));
  await assert.rejects(o.request('acme', { path: '/api/v2/organizations/me', signal: { aborted: false } }), invalid('signal'));
  await assert.rejects(o.getAccessToken('acme', { timeoutMs: -1 }), invalid('timeoutMs'));
  await assert.rejects(o.fetchAll('acme', { path: '/api/v2/users', timeoutMs: 10 }, { timeoutMs: 10 }), invalid('signal'));
  assert.throws(() => o.paginate('acme', { path: '/api/v2/users' }, { timeoutMs: 1e12 }), invalid('timeoutMs'));
});

test('close() settles a bounded call in flight with CLOSED', async (t) => {
  const o = await ready();
  await o.getAccessToken('acme');
  const fault = await emu.control('POST', 'faults', { path: '/api/v2/organizations/me', status: 0, latencyMs: 5000 });
  t.after(() => emu.control('DELETE', `faults/${fault.id}`).catch(() => {}));
  const pending = o.request('acme', { path: '/api/v2/organizations/me', timeoutMs: 30_000, signal: new AbortController().signal });
  const settled = assert.rejects(pending, (e) => e.code === 'CLOSED');
  await new Promise((r) => setTimeout(r, 100));
  await o.close();
  await settled;
});
