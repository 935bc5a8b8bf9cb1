'use strict';
// `genesys-tenants demo`: a guided tour of TenantOrchestrator against the built-in emulator.
// Every step states what it expects; the run exits 0 only if every expectation held.
const { TenantOrchestrator } = require('../index.js');
const { startEmulator } = require('../testing.js');
const { parseArgs, noExtra } = require('./args.js');
const http = require('node:http');
const native = require('../native.js').loadNative();

const INTERVAL = '2024-01-01T00:00:00.000Z/2024-01-08T00:00:00.000Z';
const tty = process.stdout.isTTY;
const c = (code) => (s) => (tty ? `\x1b[${code}m${s}\x1b[0m` : String(s));
const bold = c(1);
const dim = c(2);
const green = c(32);
const red = c(31);
const yellow = c(33);

function progress(label, state) {
  const of = Number.isFinite(state.total) ? `/${state.total}` : '';
  const line = `  ${dim('…')} ${label}: ${state.done}${of} calls${state.failed ? red(`, ${state.failed} failed`) : ''}`;
  if (tty) process.stdout.write(`\r${line}\x1b[K`);
}

async function run(label, total, fn, concurrency = 16, shouldStop = () => false) {
  const state = { done: 0, failed: 0, total, errors: [] };
  const timer = setInterval(() => progress(label, state), 100);
  let next = 0;
  const worker = async () => {
    while (next < total && !shouldStop()) {
      const i = next++;
      try {
        await fn(i);
      } catch (e) {
        state.failed++;
        state.errors.push(e);
      }
      state.done++;
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  clearInterval(timer);
  if (tty) process.stdout.write('\r\x1b[K');
  state.ms = Date.now() - t0;
  return state;
}

async function main(argv) {
  const args = parseArgs(argv, { help: 'boolean' });
  if (args.help) {
    console.log('usage: genesys-tenants demo\n\nStarts the emulator with its built-in world and runs a guided tour; exits 0 if every check held.');
    return 0;
  }
  noExtra(args, 0, 'demo takes no arguments');
  const checks = [];
  const check = (ok, what) => {
    checks.push({ ok, what });
    console.log(`  ${ok ? green('✔') : red('✘')} ${what}`);
  };
  const step = (n, title) => console.log(`\n${bold(`${n}. ${title}`)}`);

  console.log(bold('genesys-tenants demo') + dim(' — one TenantOrchestrator, many Genesys Cloud orgs (all on a local emulator)'));
  const emu = await startEmulator();
  const o = new TenantOrchestrator({
    configEndpoint: emu.url,
    configServiceToken: emu.configServiceToken,
    gateway: emu.gateway,
    configPollIntervalMs: 500,
  });
  const events = [];
  o.onEvent((e) => events.push(e));
  const calls = {};
  const count = (t, ok) => {
    calls[t] = calls[t] || { calls: 0, failed: 0 };
    calls[t].calls++;
    if (!ok) calls[t].failed++;
  };
  const call = async (t, req) => {
    try {
      const r = await o.request(t, req);
      count(t, true);
      return r;
    } catch (e) {
      count(t, false);
      throw e;
    }
  };

  try {
    step(1, 'Load the tenants from the config service');
    const config = await emu.tenants();
    const ids = await o.initialize();
    for (const t of config) console.log(`  ${t.tenantId.padEnd(10)} ${dim('region')} ${t.region}`);
    check(ids.length === config.length, `${ids.length} tenants loaded and validated`);

    step(2, 'Serve every tenant in parallel (cold start: 40 concurrent calls per tenant)');
    const par = await run('parallel', ids.length * 40, (i) => call(ids[i % ids.length], { path: '/api/v2/organizations/me' }), 64);
    const names = {};
    for (const t of ids) names[t] = (await o.request(t, { path: '/api/v2/organizations/me' })).body.name;
    for (const t of ids) console.log(`  ${t.padEnd(10)} → ${names[t]}`);
    const tokenReqs = {};
    for (const t of config) tokenReqs[t.tenantId] = (await emu.control('GET', `counters/${t.clientId}`)).tokenRequests;
    check(par.failed === 0, `${par.total} calls in ${par.ms} ms, ${par.failed} failed`);
    check(Object.values(tokenReqs).every((n) => n === 1), `one token request per tenant, however many callers (${Object.values(tokenReqs).join(', ')})`);

    step(3, 'Page through 1,234 users of acme-corp');
    const users = await o.fetchAll('acme-corp', { path: '/api/v2/users' }, { pageSize: 100 });
    const unique = new Set(users.entities.map((u) => u.id)).size;
    check(unique === 1234 && users.totalCount === 1234, `${users.entities.length} users in ${users.pages} pages, ${unique} distinct, total ${users.totalCount}`);
    const convs = await o.fetchAll('acme-corp', { method: 'POST', path: '/api/v2/analytics/conversations/details/query', body: { interval: INTERVAL } });
    check(convs.entities.length === 437, `${convs.entities.length} analytics conversations in ${convs.pages} pages`);

    step(4, 'A missing permission, explained');
    try {
      await o.request('globex', { method: 'POST', path: '/api/v2/users/search', body: { query: [{ type: 'MATCH_ALL' }] } });
      check(false, 'globex should lack directory:user:view');
    } catch (e) {
      console.log(`  ${yellow(e.code)} ${e.message}`);
      check(e.code === 'PERMISSION_MISSING' && e.missingPermissions.includes('directory:user:view'), `the error names ${e.missingPermissions?.join(', ')} (${e.mode})`);
    }

    step(5, 'Rotate acme-corp\'s secret under load, triggered by a signed webhook');
    const acmeCorp = config.find((t) => t.tenantId === 'acme-corp');
    let stop = false;
    // Paced so that acme-corp stays inside its 300 calls a minute (steps 2 and 3 used ~60): a faster
    // machine must not turn this step into a rate-limit test.
    const load = run('rotation', Infinity, async () => {
      await call('acme-corp', { path: '/api/v2/organizations/me' });
      await new Promise((r) => setTimeout(r, 20));
    }, 4, () => stop);
    await new Promise((r) => setTimeout(r, 300));
    await emu.control('POST', `clients/${acmeCorp.clientId}/secret`, {});
    // The secret manager tells the service through its rotation webhook (here on 127.0.0.1).
    const hookSecret = 'demo-webhook-secret-0123456789';
    const hook = http.createServer(o.rotationWebhook({ secret: hookSecret }));
    await new Promise((r) => hook.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${hook.address().port}/hooks/rotate`;
    const body = JSON.stringify({ tenantId: 'acme-corp' });
    const signature = native.signWebhook(hookSecret, Math.floor(Date.now() / 1000), Buffer.from(body));
    const rotatedEvent = new Promise((resolve) => {
      const off = o.onEvent((e) => {
        if (e.tenantId === 'acme-corp' && (e.type === 'credentials.rotated' || e.type === 'rotation.failed')) {
          off();
          resolve(e.type);
        }
      });
    });
    const deliver = () =>
      fetch(hookUrl, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-genesys-tenants-signature': signature } }).then((r) => r.status);
    const accepted = await deliver();
    const outcome = await rotatedEvent;
    const replayed = await deliver();
    hook.close();
    console.log(`  ${dim('POST')} ${hookUrl} → ${accepted}, ${outcome}; the same delivery again → ${replayed}`);
    check(accepted === 202 && outcome === 'credentials.rotated' && replayed === 401, 'the signed delivery rotated acme-corp once; its replay was refused');
    await emu.control('POST', `clients/${acmeCorp.clientId}/revoke`, {});
    await new Promise((r) => setTimeout(r, 700));
    stop = true;
    const rot = await load;
    check(rot.failed === 0, `secret regenerated, old tokens revoked: ${rot.done} calls, ${rot.failed} failed`);

    step(6, 'Move acme to a second OAuth client: tested before any call uses it');
    const acme = config.find((t) => t.tenantId === 'acme');
    const second = await emu.control('POST', 'clients', { like: acme.clientId });
    const servedDoc = JSON.stringify(await emu.tenants());
    const stagePending = async (clientSecret) => {
      const doc = JSON.parse(servedDoc);
      Object.assign(doc.find((t) => t.tenantId === 'acme'), { pendingClientId: second.clientId, pendingClientSecret: clientSecret });
      await emu.control('PUT', 'config-service/tenants', doc);
      await o.reloadConfig();
    };
    const nextFor = (type) =>
      new Promise((resolve) => {
        const off = o.onEvent((e) => {
          if (e.tenantId === 'acme' && e.type === type) {
            off();
            resolve(e);
          }
        });
      });
    const failedTest = nextFor('credentials.pending-failed');
    await stagePending('a-mistyped-secret');
    const f = await failedTest;
    console.log(`  pending client with a mistyped secret → ${yellow(f.type)} (step ${f.step}, ${f.status}); acme stays on its client`);
    check(o.stats().tenants.acme.clientId === acme.clientId, 'the failed client was never used: acme kept its current client');
    let stopMove = false;
    const moveLoad = run('move', Infinity, async () => {
      await call('acme', { path: '/api/v2/organizations/me' });
      await new Promise((r) => setTimeout(r, 20));
    }, 4, () => stopMove);
    const promotedEvent = nextFor('credentials.promoted');
    await stagePending(second.secret);
    const promoted = await promotedEvent;
    await new Promise((r) => setTimeout(r, 300));
    stopMove = true;
    const moved = await moveLoad;
    const secondCounts = await emu.control('GET', `counters/${second.clientId}`);
    console.log(`  the right secret → token request, GET /api/v2/tokens/me (same org ${promoted.organizationId.slice(0, 8)}…) → ${green(promoted.type)}`);
    check(
      moved.failed === 0 && o.stats().tenants.acme.clientId === second.clientId && secondCounts.tokenRequests === 2,
      `acme moved to its second client under load: ${moved.done} calls, ${moved.failed} failed; the tested token is the one in use (${secondCounts.tokenRequests - 1} token request for it)`,
    );

    step(7, 'A 429 storm on umbrella (limit 20 per 2 s), absorbed');
    const umbrella = config.find((t) => t.tenantId === 'umbrella');
    await emu.control('PATCH', `clients/${umbrella.clientId}`, { rateLimit: { limit: 20, windowSeconds: 2 } });
    const before429 = (await emu.control('GET', `counters/${umbrella.clientId}`)).apiCalls?.['429'] ?? 0;
    const storm = await run('storm', 80, () => call('umbrella', { path: '/api/v2/organizations/me' }), 80);
    const after429 = (await emu.control('GET', `counters/${umbrella.clientId}`)).apiCalls?.['429'] ?? 0;
    check(storm.failed === 0, `80 calls in ${(storm.ms / 1000).toFixed(1)} s (theoretical minimum ~6 s), ${after429 - before429} answered 429, ${storm.failed} failed`);

    step(8, 'The config service goes down and comes back while calls continue');
    await emu.control('PUT', 'config-service', { mode: 'error503' });
    const staleBefore = events.filter((e) => e.type === 'config.stale').length;
    const outageStart = Date.now();
    let made = 0;
    // Calls keep flowing until the orchestrator has noticed the outage (it polls every 500 ms here),
    // at least 60 calls, at most 5 s.
    const outageOver = () => made >= 60 && (events.filter((e) => e.type === 'config.stale').length > staleBefore || Date.now() - outageStart > 5000);
    const down = await run('outage', Infinity, async (i) => {
      made++;
      await call(ids[i % ids.length], { path: '/api/v2/organizations/me' });
      await new Promise((r) => setTimeout(r, 20));
    }, 4, outageOver);
    const stale = events.filter((e) => e.type === 'config.stale').length - staleBefore;
    await emu.control('PUT', 'config-service', { mode: 'ok' });
    check(down.failed === 0 && stale > 0, `${down.done} calls during the outage, ${down.failed} failed; ${stale} config.stale events; last good config kept`);

    step(9, 'Live events for three tenants through a forced maintenance move (Notifications API)');
    // Every tenant subscribes to one queue's conversation topic; Genesys (here the emulator) publishes 3,000
    // events; half a second in, every socket is warned of maintenance (v2.system.socket_closing) and closed a
    // second later. The orchestrator opens a new channel, subscribes and connects before the old socket goes.
    const live = ['acme-corp', 'acme', 'globex'];
    const topic = 'v2.routing.queues.0c2a6f4e-5d1b-4f8e-9a37-1b2c3d4e5f60.conversations';
    const seqs = Object.fromEntries(live.map((t) => [t, []]));
    const moves = [];
    const offMoves = o.onEvent((e) => {
      if (e.type === 'notifications.channel-moved') moves.push(e);
    });
    const subs = await Promise.all(live.map((t) => o.subscribe(t, [topic], (e) => seqs[t].push(e.eventBody.seq))));
    const TOTAL = 3000;
    const pub = await emu.notifications.publish(topic, { count: TOTAL, ratePerSecond: 1500, background: true });
    await new Promise((r) => setTimeout(r, 500));
    for (const t of live) {
      // The client each tenant uses now (acme moved to its second client in step 6).
      await emu.notifications.socketClosing({ clientId: o.stats().tenants[t].clientId }, { graceMs: 1000 });
    }
    let published = await emu.notifications.publication(pub.id);
    for (let i = 0; i < 200 && !(published.done && live.every((t) => seqs[t].length >= TOTAL)); i++) {
      await new Promise((r) => setTimeout(r, 50));
      published = await emu.notifications.publication(pub.id);
    }
    offMoves();
    await Promise.all(subs.map((s) => s.close()));
    for (const t of live) {
      const got = seqs[t];
      const distinct = new Set(got).size;
      console.log(`  ${t.padEnd(10)} ${got.length} events, ${distinct} distinct, ${TOTAL - distinct} lost, ${got.length - distinct} doubled`);
    }
    const movedTenants = new Set(moves.map((e) => e.tenantId));
    check(
      live.every((t) => seqs[t].length === TOTAL && new Set(seqs[t]).size === TOTAL) && live.every((t) => movedTenants.has(t)),
      `every tenant's channel moved (${moves.length} moves) and each of the ${live.length} tenants received all ${TOTAL} events exactly once`,
    );

    step(10, 'Per tenant');
    const stats = o.stats().tenants;
    const rows = [];
    for (const t of config) {
      const k = await emu.control('GET', `counters/${t.clientId}`);
      const s = stats[t.tenantId] || {};
      rows.push([t.tenantId, calls[t.tenantId]?.calls ?? 0, k.tokenRequests, s.retries ?? 0, k.apiCalls?.['429'] ?? 0, calls[t.tenantId]?.failed ?? 0]);
    }
    const head = ['tenant', 'calls', 'token requests', 'retries', '429s', 'failures'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
    const fmt = (r) => '  ' + r.map((v, i) => (i === 0 ? String(v).padEnd(widths[i]) : String(v).padStart(widths[i]))).join('  ');
    console.log(bold(fmt(head)));
    for (const r of rows) console.log(fmt(r));
    // The same run as metrics (what a /metrics endpoint serves): calls by outcome and latency per tenant.
    console.log(`\n  ${bold('metrics')} ${dim('(o.metrics(); o.metricsText() serves them to Prometheus)')}`);
    const { tenants: metrics, latencyBucketsSeconds: bounds } = o.metrics();
    const p50 = (h) => {
      const i = h.cumulative.findIndex((n) => n >= h.count / 2);
      return h.count === 0 ? '—' : i < 0 ? `> ${bounds[bounds.length - 1]} s` : `≤ ${bounds[i] * 1000} ms`;
    };
    const mrows = config.map((t) => {
      const m = metrics[t.tenantId];
      const outcomes = Object.entries(m.calls).map(([k, n]) => `${k} ${n}`).join(', ');
      return [t.tenantId, outcomes || '—', p50(m.latency), `${(m.heldMs / 1000).toFixed(1)} s`, m.tokenRequests];
    });
    const mhead = ['tenant', 'calls by outcome', 'p50 latency', '429 hold', 'token requests'];
    const mw = mhead.map((h, i) => Math.max(h.length, ...mrows.map((r) => String(r[i]).length)));
    const mfmt = (r) => ('  ' + r.map((v, i) => String(v).padEnd(mw[i])).join('  ')).trimEnd();
    console.log(bold(mfmt(mhead)));
    for (const r of mrows) console.log(mfmt(r));
    const metricCalls = config.reduce((n, t) => n + Object.values(metrics[t.tenantId].calls).reduce((a, b) => a + b, 0), 0);
    const demoCalls = Object.values(calls).reduce((n, c) => n + c.calls, 0) + ids.length;
    check(metricCalls >= demoCalls, `metrics count every call the demo made (${metricCalls} calls through the pipeline)`);
    // Only globex's deliberate 403 may fail.
    const unexpected = rows.reduce((n, r) => n + (r[0] === 'globex' ? Math.max(0, r[5] - 1) : r[5]), 0);
    check(unexpected === 0, 'no call failed other than the deliberate permission error');
  } finally {
    await o.close();
    await emu.stop();
  }
  const failed = checks.filter((x) => !x.ok).length;
  console.log(
    '\n' +
      (failed === 0
        ? green(bold(`✔ verdict: all ${checks.length} checks held`))
        : red(bold(`✘ verdict: ${failed} of ${checks.length} checks failed`))),
  );
  return failed === 0 ? 0 : 1;
}

module.exports = { main };
