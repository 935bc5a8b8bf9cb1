'use strict';
// `genesys-tenants/testing`: a local Genesys Cloud for a consumer's own tests. Starts the emulator binary
// that ships in the platform package (or a source build's), on 127.0.0.1 with a free port, and hands back
// what an orchestrator or the official SDK needs to talk to it. Uses no native addon, so a test can start
// the emulator before it loads anything else.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const pkg = require('../package.json');
const { platformTriple } = require('./platform.js');

const ROOT = path.resolve(__dirname, '..');
const EXE = process.platform === 'win32' ? 'genesys-emulator.exe' : 'genesys-emulator';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

function testingError(code, message, fields = {}) {
  const err = new Error(message);
  err.name = 'GenesysTenantsError';
  err.code = code;
  return Object.assign(err, fields);
}

/** Where the emulator binary may be, in the order tried. */
function emulatorCandidates() {
  const candidates = [];
  if (process.env.GENESYS_EMULATOR_BIN) candidates.push(process.env.GENESYS_EMULATOR_BIN);
  candidates.push(path.join(ROOT, EXE));
  try {
    const platformPkg = require.resolve(`${pkg.name}-${platformTriple()}/package.json`, { paths: [ROOT] });
    candidates.push(path.join(path.dirname(platformPkg), EXE));
  } catch {
    // The platform package is not installed; the error below says so.
  }
  candidates.push(path.join(ROOT, 'target', 'release', EXE));
  return candidates;
}

/** The emulator binary this package would start, or null. `GENESYS_EMULATOR_BIN` overrides. */
function emulatorPath() {
  if (process.env.GENESYS_EMULATOR_BIN) return process.env.GENESYS_EMULATOR_BIN;
  return emulatorCandidates().find((p) => fs.existsSync(p)) || null;
}

function missingEmulator() {
  const looked = emulatorCandidates();
  return testingError(
    'EMULATOR_MISSING',
    `genesys-tenants: the emulator binary is missing (looked at ${looked.join(', ')}). It ships in the platform package ` +
      `${pkg.name}-${platformTriple()}: install with optional dependencies, or build from source (\`npm run build\` in a checkout), ` +
      'or point GENESYS_EMULATOR_BIN at a genesys-emulator binary.',
    { looked },
  );
}

// The token travels as an HTTP header value (X-Service-Token): visible ASCII, spaces only inside
// (an HTTP parser trims them at the edges), and a length every HTTP stack takes.
const TOKEN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
const MAX_TOKEN = 4096;
// Arguments the binary reads as its own flag wherever they stand (it prints its usage and exits).
const BINARY_FLAGS = new Set(['--help', '-h']);

function invalid(option, message) {
  return testingError('INVALID_OPTIONS', `startEmulator: ${message}`, { option });
}

/**
 * Refuses, before anything is started, every option value the emulator cannot work with. The
 * messages name the option and the rule, never the value (a token is a credential). Returns the world
 * as JSON text when it is an object.
 */
function checkOptions(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw testingError('INVALID_OPTIONS', 'startEmulator(options): options must be an object', { option: 'options' });
  }
  const known = ['world', 'port', 'configPort', 'token', 'startTimeoutMs'];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw invalid(key, `unknown option '${key.replace(/[^\x20-\x7e]/g, '?')}' (known: ${known.join(', ')})`);
    }
  }
  for (const key of ['port', 'configPort']) {
    const v = options[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 65535)) throw invalid(key, `'${key}' must be a port number 0–65535`);
  }
  if (options.port !== undefined && options.port !== 0 && options.port === options.configPort) {
    throw invalid('configPort', "'configPort' must differ from 'port' (each listener needs its own port; 0 picks a free one)");
  }
  const t = options.startTimeoutMs;
  if (t !== undefined && !(Number.isInteger(t) && t > 0 && t <= 600_000)) {
    throw invalid('startTimeoutMs', "'startTimeoutMs' must be an integer 1–600000");
  }
  const token = options.token;
  if (token !== undefined) {
    if (typeof token !== 'string' || token === '') throw invalid('token', "'token' must be a non-empty string");
    if (token.length > MAX_TOKEN || !TOKEN.test(token)) {
      throw invalid('token', `'token' is sent as the X-Service-Token header: visible ASCII only (spaces inside, none at the ends), at most ${MAX_TOKEN} characters`);
    }
    if (BINARY_FLAGS.has(token)) throw invalid('token', `'token' cannot be ${[...BINARY_FLAGS].join(' or ')}: the emulator binary takes it for its flag`);
  }
  const w = options.world;
  if (w === undefined) return null;
  if (typeof w === 'string') {
    if (w === '' || w.includes('\0')) throw invalid('world', "'world' must be the path of a world JSON file (a non-empty path without NUL)");
    let stat = null;
    try {
      stat = fs.statSync(w);
    } catch {
      // reported below
    }
    if (!stat || !stat.isFile()) throw invalid('world', "'world' names no readable file: give the path of a world JSON file, or a world object");
    return null;
  }
  if (w === null || typeof w !== 'object' || Array.isArray(w)) {
    throw invalid('world', "'world' must be a world object or the path of a world JSON file");
  }
  try {
    return JSON.stringify(w);
  } catch (e) {
    throw testingError('INVALID_OPTIONS', `startEmulator: 'world' cannot be written as JSON (${e.message})`, { option: 'world', cause: e });
  }
}

/**
 * The world as a file the binary can read: the path given (made absolute, so that no file name can
 * read as a flag), or the world's JSON (`worldJson`) written to a private temp dir.
 */
function worldFile(world, worldJson) {
  if (world === undefined) return { file: null, cleanup() {} };
  if (typeof world === 'string') return { file: path.resolve(world), cleanup() {} };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genesys-emulator-'));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  const file = path.join(dir, 'world.json');
  try {
    fs.writeFileSync(file, worldJson, { mode: 0o600 });
  } catch (e) {
    cleanup();
    throw e;
  }
  return { file, cleanup };
}

/**
 * Starts an emulator: `{ world?, port?, configPort?, token?, startTimeoutMs? }` →
 * `{ url, configUrl, configServiceToken, port, gateway, options(), control(), tenants(), stop() }`.
 */
async function startEmulator(options = {}) {
  const worldJson = checkOptions(options);
  const bin = emulatorPath();
  if (!bin || !fs.existsSync(bin)) throw missingEmulator();
  const args = ['--port', String(options.port ?? 0)];
  if (options.configPort !== undefined) args.push('--config-port', String(options.configPort));
  if (options.token !== undefined) args.push('--token', options.token);
  const world = worldFile(options.world, worldJson);
  if (world.file) args.push('--world', world.file);

  let child;
  try {
    child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  } catch (e) {
    // spawn throws (rather than emitting 'error') on arguments it cannot pass, e.g. a NUL in a path.
    world.cleanup();
    throw testingError('EMULATOR_START_FAILED', `the emulator could not be started: ${e.message}`, { cause: e });
  }
  // An emulator left running must not outlive the test process.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    if (stderr.length < 16_384) stderr += d;
  });
  const exited = new Promise((resolve) => child.once('close', resolve));
  let info;
  try {
    info = await firstLine(child, options.startTimeoutMs ?? START_TIMEOUT_MS, () => stderr);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    process.removeListener('exit', killOnExit);
    throw err;
  } finally {
    // The binary has read the world (or failed to); the temp copy is not needed any more.
    world.cleanup();
  }
  // Keep draining stdout so a chatty emulator never blocks on a full pipe.
  child.stdout.resume();

  const port = Number(new URL(info.url).port);
  const gateway = { protocol: 'http', host: '127.0.0.1', port };
  const control = async (method, p, body) => {
    const res = await fetch(`${info.url}/__control/${String(p).replace(/^\//, '')}`, {
      method,
      headers: { 'X-Service-Token': info.configServiceToken, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw testingError('EMULATOR_CONTROL', `emulator control ${method} ${p}: ${res.status} ${text}`, { status: res.status });
    return text ? JSON.parse(text) : null;
  };
  let stopping = null;
  return {
    url: info.url,
    configUrl: info.configUrl,
    configServiceToken: info.configServiceToken,
    port,
    gateway,
    /** Orchestrator options that point at this emulator, merged with `extra`. */
    options(extra = {}) {
      // A fresh gateway object each time: a caller may change what it is given.
      return { configEndpoint: info.url, configServiceToken: info.configServiceToken, gateway: { ...gateway }, ...extra };
    },
    control,
    notifications: notificationControls(control),
    async tenants() {
      const res = await fetch(`${info.url}/api/v1/genesys/tenants`, { headers: { 'X-Service-Token': info.configServiceToken } });
      if (!res.ok) throw testingError('EMULATOR_CONTROL', `emulator config service: ${res.status}`, { status: res.status });
      return res.json();
    },
    /** Stops the emulator; resolves when the process has exited and its pipes are closed. Idempotent. */
    stop() {
      if (!stopping) {
        stopping = (async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
            await exited;
            clearTimeout(timer);
          } else {
            await exited;
          }
          process.removeListener('exit', killOnExit);
        })();
      }
      return stopping;
    },
  };
}

/** `{ channelId }` or `{ clientId }` (every channel of that OAuth client) as a control path. */
function notificationTarget(target, action) {
  const t = target || {};
  if (typeof t.channelId === 'string' && t.channelId) return `notifications/channels/${encodeURIComponent(t.channelId)}/${action}`;
  if (typeof t.clientId === 'string' && t.clientId) return `notifications/clients/${encodeURIComponent(t.clientId)}/${action}`;
  throw testingError('INVALID_OPTIONS', `notifications.${action}: pass { channelId } or { clientId }`, { option: 'target' });
}

/** The emulator's Notifications API controls (`/__control/notifications/…`, crates/emulator/README.md). */
function notificationControls(control) {
  return {
    counters: () => control('GET', 'notifications'),
    settings: (settings) => control('PUT', 'notifications/settings', settings ?? {}),
    publish: (topic, options = {}) => control('POST', 'notifications/publish', { ...options, topic }),
    publication: (id) => control('GET', `notifications/publish/${encodeURIComponent(id)}`),
    cancelPublication: (id) => control('DELETE', `notifications/publish/${encodeURIComponent(id)}`),
    socketClosing: (target, options = {}) => control('POST', notificationTarget(target, 'socket-closing'), options),
    expire: (target) => control('POST', notificationTarget(target, 'expire')),
    kill: (target) => control('POST', notificationTarget(target, 'kill')),
    silence: (target) => control('POST', notificationTarget(target, 'silence')),
  };
}

function firstLine(child, timeoutMs, stderr) {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    const done = (fn, value) => {
      clearTimeout(timer);
      rl.removeAllListeners('line');
      child.removeListener('exit', onExit);
      child.removeListener('error', onError);
      rl.close();
      fn(value);
    };
    const timer = setTimeout(
      () => done(reject, testingError('EMULATOR_START_FAILED', `the emulator did not start within ${timeoutMs} ms: ${stderr().trim()}`)),
      timeoutMs,
    );
    const onExit = (code, signal) =>
      done(reject, testingError('EMULATOR_START_FAILED', `the emulator exited with ${signal || code}: ${stderr().trim()}`, { exitCode: code }));
    const onError = (e) => done(reject, testingError('EMULATOR_START_FAILED', `the emulator could not be started: ${e.message}`, { cause: e }));
    child.once('exit', onExit);
    child.once('error', onError);
    rl.once('line', (line) => {
      let info;
      try {
        info = JSON.parse(line);
      } catch {
        return done(reject, testingError('EMULATOR_START_FAILED', `the emulator printed no JSON first line: ${line.slice(0, 200)}`));
      }
      done(resolve, info);
    });
  });
}

module.exports = { startEmulator, emulatorPath };
