// The CLI as a person runs it: demo, doctor, token, bad arguments.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, root, runCli } from './helpers.mjs';


const cli = (args, env = {}, timeoutMs = 120_000) => runCli(args, env, timeoutMs);

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

test('demo: exit 0, a table per tenant and a verdict', async () => {
  const r = await cli(['demo']);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /tenant\s+calls\s+token requests\s+retries\s+429s\s+failures/);
  for (const t of ['acme-corp', 'acme', 'globex', 'initech', 'umbrella']) assert.match(r.out, new RegExp(`\\n\\s+${t}\\s+\\d+`));
  assert.match(r.out, /verdict: all \d+ checks held/);
  // The live-events step: three tenants through a maintenance move, nothing lost or doubled.
  for (const t of ['acme-corp', 'acme', 'globex']) assert.match(r.out, new RegExp(`${t}\\s+3000 events, 3000 distinct, 0 lost, 0 doubled`));
});

test('doctor names the missing permission with its fix and exits 1', async () => {
  const r = await cli(['doctor', '--config-endpoint', emu.url, '--gateway', emu.url, '--uses', 'users,search', '--json'], { CONFIG_SERVICE_TOKEN: emu.configServiceToken });
  assert.equal(r.code, 1, r.err);
  const report = JSON.parse(r.out);
  assert.equal(report.ok, false);
  const globex = report.tenants.find((t) => t.tenantId === 'globex');
  const p = globex.problems.find((x) => x.area === 'search');
  assert.equal(p.code, 'PERMISSION_MISSING');
  assert.match(p.fix, /grant directory:user:view to a role of the OAuth client/);
  assert.equal(report.tenants.find((t) => t.tenantId === 'acme-corp').problems.length, 0);
  assert.ok(!r.out.includes((await emu.tenants())[0].clientSecret), 'no secret printed');
});

test('doctor on a healthy world exits 0', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gt-cli-'));
  const world = path.join(dir, 'world.json');
  writeFileSync(world, JSON.stringify({
    orgs: [{ id: 'org-h', name: 'Healthy', region: 'mypurecloud.ie', users: 3, queues: 1 }],
    clients: [{ tenantId: 'healthy', clientId: 'client-h', orgId: 'org-h', permissions: ['directory:user:view', 'routing:queue:view'] }],
  }));
  const healthy = await startEmulator(['--world', world]);
  try {
    const r = await cli(['doctor', '--config-endpoint', healthy.url, '--gateway', healthy.url, '--uses', 'users,search,routing'], { CONFIG_SERVICE_TOKEN: healthy.configServiceToken });
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /all 1 tenants healthy/);
  } finally {
    await healthy.stop();
  }
});

test('token is masked unless --reveal; bad arguments exit 2 without a stack trace', async () => {
  const env = { CONFIG_SERVICE_TOKEN: emu.configServiceToken };
  const masked = await cli(['token', 'acme', '--config-endpoint', emu.url, '--gateway', emu.url], env);
  assert.equal(masked.code, 0, masked.err);
  assert.match(masked.out, /^.{4}…\(\d+ chars\)\n$/);
  const whole = await cli(['token', 'acme', '--config-endpoint', emu.url, '--gateway', emu.url, '--reveal'], env);
  assert.ok(whole.out.trim().length > 30);
  const unknown = await cli(['token', 'nobody', '--config-endpoint', emu.url, '--gateway', emu.url], env);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /UNKNOWN_TENANT/);
  assert.ok(!unknown.err.includes('    at '), 'no stack trace');
  const bad = await cli(['doctor', '--bogus']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown option --bogus/);
  assert.equal((await cli(['nonsense'])).code, 2);
  assert.equal((await cli(['doctor', '--help'])).code, 0);
});

test('explain prints what an operation needs, from the generated catalogue', async () => {
  const r = await cli(['explain', 'GET', '/api/v2/routing/queues/q-1']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^GET \/api\/v2\/routing\/queues\/\{queueId\}  \(SDK: getRoutingQueue\)$/m);
  assert.match(r.out, /permissions\s+ALL of routing:queue:view/);
  assert.match(r.out, /scopes\s+any one of routing, routing:readonly/);
  assert.match(r.out, /replay-safe\s+yes/);
  const jobs = JSON.parse((await cli(['explain', 'post', '/api/v2/analytics/conversations/details/jobs', '--json'])).out);
  assert.deepEqual(jobs.scopes, ['analytics', 'analytics:readonly']);
  assert.equal(jobs.replaySafe, false);
  assert.equal(jobs.permissions.mode, 'ANY');
  const none = await cli(['explain', 'GET', '/api/v2/no-such-thing']);
  assert.equal(none.code, 1);
  assert.match(none.out, /not an operation of the Platform API \(as of purecloud-platform-client-v2@262\.0\.0\)/);
  assert.equal((await cli(['explain', 'GET'])).code, 2);
});

test('doctor says which scopes would do when the server refuses one, and what the catalogue lists', async () => {
  const r = await cli(['doctor', '--config-endpoint', emu.url, '--gateway', emu.url, '--uses', 'users', '--json'], { CONFIG_SERVICE_TOKEN: emu.configServiceToken });
  const initech = JSON.parse(r.out).tenants.find((t) => t.tenantId === 'initech');
  const p = initech.problems.find((x) => x.area === 'users');
  assert.equal(p.code, 'SCOPE_MISSING');
  assert.match(p.fix, /^add one of users, users:readonly to the OAuth client's scopes/);
  assert.equal(p.needs, 'GET /api/v2/users needs permissions none; scopes any one of users, users:readonly');
});

test('the exit codes the README states: bad flag values and extra arguments exit 2, --version exits 0', async () => {
  const version = await cli(['--version']);
  assert.equal(version.code, 0);
  assert.equal(version.out.trim(), JSON.parse((await import('node:fs')).readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  for (const args of [
    ['token', 'acme', '--config-endpoint', 'not-a-url'],
    ['token', 'acme', '--config-endpoint', 'ftp://config.internal'],
    ['token', 'acme', 'extra', '--config-file', 'x.json'],
    ['rotate', 'acme', 'extra', '--config-file', 'x.json'],
    ['doctor', 'stray', '--config-file', 'x.json'],
    ['demo', 'stray'],
    ['--version', 'stray'],
  ]) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.equal(r.err.trim().split('\n').length, 1, `one line: ${r.err}`);
    assert.match(r.err, /see --help/);
  }
});

test('a 401 from the config service hints at CONFIG_SERVICE_TOKEN', async () => {
  const missing = await cli(['token', 'acme', '--config-endpoint', emu.url, '--gateway', emu.url], { CONFIG_SERVICE_TOKEN: '' });
  assert.equal(missing.code, 1);
  assert.match(missing.err, /CONFIG_UNAVAILABLE: .*401/);
  assert.match(missing.err, /hint: the config service wants a token: set CONFIG_SERVICE_TOKEN/);
  const wrong = await cli(['token', 'acme', '--config-endpoint', emu.url, '--gateway', emu.url], { CONFIG_SERVICE_TOKEN: 'wrong' });
  assert.match(wrong.err, /hint: the config service refused CONFIG_SERVICE_TOKEN/);
});

test('emulator --help lists every flag the binary takes; doctor prints a fix only once, and only when it has one', async () => {
  const help = await cli(['emulator', '--help']);
  assert.equal(help.code, 0);
  for (const flag of ['--port', '--config-port', '--world', '--token']) assert.match(help.out, new RegExp(`${flag} `));
  // A 400 on the users probe: an UPSTREAM_ERROR, for which doctor has no advice beyond the message.
  const fault = await emu.control('POST', 'faults', { method: 'GET', path: '/api/v2/users', status: 400 });
  const r = await cli(['doctor', '--config-endpoint', emu.url, '--gateway', emu.url, '--uses', 'users,search'], { CONFIG_SERVICE_TOKEN: emu.configServiceToken });
  await emu.control('DELETE', `faults/${fault.id}`);
  assert.equal(r.code, 1);
  const lines = r.out.split('\n');
  const upstream = lines.findIndex((l) => l.includes('[users] UPSTREAM_ERROR'));
  assert.ok(upstream > 0, r.out);
  assert.ok(!lines[upstream + 1].trim().startsWith('fix:'), `no fix line that repeats the message: ${lines[upstream + 1]}`);
  const fixes = lines.filter((l) => l.trim().startsWith('fix:'));
  assert.ok(fixes.length >= 1);
  assert.ok(fixes.length <= lines.filter((l) => l.trim().startsWith('✘')).length, 'at most one fix per problem');
  for (const [i, l] of lines.entries()) {
    if (l.trim().startsWith('fix:')) assert.ok(!lines[i - 1].includes(l.trim().slice(5)), `the fix repeats the message: ${lines[i - 1]}`);
  }
});

// Issue 23, item 8: a control character that reaches a terminal can recolour it, move the cursor, or
// forge lines; none may come out of the CLI raw, whichever command quotes it.
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

test('webhook sign refuses a timestamp that is not plain non-negative integer unix seconds in range (exit 2)', async () => {
  const env = { GENESYS_TENANTS_WEBHOOK_SECRET: 'whsec-cli-0123456789abcdef' };
  for (const t of ['1e30', '1e3', '-1', '1.5', '0x10', ' 17', '17 ', '', 'NaN', 'Infinity', '+17', '18446744073709551615', '253402300800', '99999999999999999999']) {
    const r = await cli(['webhook', 'sign', '--tenant', 'acme', `--timestamp=${t}`], env);
    assert.equal(r.code, 2, `--timestamp=${JSON.stringify(t)} exited ${r.code}: ${r.out}${r.err}`);
    assert.equal(r.out, '', 'nothing signed');
    assert.equal(r.err, `genesys-tenants: --timestamp must be unix seconds: a whole number from 0 to 253402300799 (got '${t}') (see --help)\n`);
  }
  for (const t of ['0', '1700000000', '253402300799']) {
    const r = await cli(['webhook', 'sign', '--tenant', 'acme', '--timestamp', t], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^x-genesys-tenants-signature: t=${t},v1=[0-9a-f]{64}\\n`, 'i'));
  }
});

test('no command echoes a control character from its input: each refusal is one escaped line', async () => {
  const ESC = '\u001b[2J\u001b[31mforged\nsecond line\u202e\u009b';
  const escaped = '\\x1b[2J\\x1b[31mforged\\nsecond line\\u202e\\x9b';
  const env = { CONFIG_SERVICE_TOKEN: emu.configServiceToken, GENESYS_TENANTS_WEBHOOK_SECRET: 'whsec-cli-0123456789abcdef' };
  const at = ['--config-endpoint', emu.url, '--gateway', emu.url];
  const cases = [
    [[ESC], 2],
    [['--version', ESC], 2],
    [['explain', 'GET', `/api/v2/${ESC}`], 1],
    [['explain', ESC, '/api/v2/users'], 1],
    [['explain', 'GET', '/api/v2/users', ESC], 2],
    [['doctor', `--${ESC}`], 2],
    [['doctor', '--uses', ESC, '--config-file', 'x.json'], 2],
    [['doctor', ESC, '--config-file', 'x.json'], 2],
    [['doctor', '--config-endpoint', `http://${ESC}`], 2],
    [['token', ESC, ...at], 1],
    [['rotate', ESC, ...at], 1],
    [['token', 'acme', '--config-file', `/nonexistent/${ESC}.json`], 1],
    [['demo', ESC], 2],
    [['webhook', ESC], 2],
    [['webhook', 'sign', '--tenant', 'acme', '--timestamp', ESC], 2],
    [['webhook', 'sign', '--tenant', ESC], 2],
    [['webhook', 'sign', '--tenant', 'acme', '--url', `http://127.0.0.1/${ESC}`], 2],
    [['emulator', ESC], 2],
    [['emulator', '--world', `/nonexistent/${ESC}`], 2],
  ];
  for (const [args, code] of cases) {
    const r = await cli(args, env, 30_000);
    const what = JSON.stringify(args);
    assert.equal(r.code, code, `${what}: ${r.out}${r.err}`);
    assert.doesNotMatch(r.out + r.err, RAW_CONTROL, `${what} printed a raw control character: ${JSON.stringify(r.out + r.err)}`);
    const message = (code === 1 && args[0] === 'explain' ? r.out : r.err).trim().split('\n')[0];
    assert.ok(message.toLowerCase().includes(escaped.toLowerCase()), `${what}: the refusal quotes the input escaped, on one line: ${JSON.stringify(message)}`);
    if (args[0] !== ESC) assert.equal((code === 1 && args[0] === 'explain' ? r.out : r.err).trim().split('\n').length, 1, `${what}: one line: ${r.out}${r.err}`);
  }
});

test('doctor escapes what a server sends: each problem prints on one escaped line, in the JSON too', async () => {
  const hostile = 'evil\u001b[31m\nline\u202e';
  const fault = await emu.control('POST', 'faults', { method: 'GET', path: '/api/v2/users', status: 400, body: { message: hostile, code: 'bad.request', status: 400 } });
  try {
    const env = { CONFIG_SERVICE_TOKEN: emu.configServiceToken };
    const at = ['--config-endpoint', emu.url, '--gateway', emu.url, '--uses', 'users'];
    const text = await cli(['doctor', ...at], env);
    assert.equal(text.code, 1, text.err);
    assert.doesNotMatch(text.out + text.err, RAW_CONTROL, JSON.stringify(text.out));
    const problems = text.out.split('\n').filter((l) => l.includes('[users] UPSTREAM_ERROR'));
    assert.equal(problems.length, 5, text.out);
    for (const l of problems) assert.match(l, /: evil\\x1b\[31m\\nline\\u202e$/);
    const json = await cli(['doctor', ...at, '--json'], env);
    assert.doesNotMatch(json.out, RAW_CONTROL);
    const report = JSON.parse(json.out);
    // The core writes a server's message as one escaped line in every error (the body keeps the exact text).
    assert.ok(
      report.tenants.every((t) => t.problems[0].message.endsWith(': evil\\x1b[31m\\nline\\u202e')),
      JSON.stringify(report.tenants.map((t) => t.problems[0].message)),
    );
  } finally {
    await emu.control('DELETE', `faults/${fault.id}`);
  }
});
