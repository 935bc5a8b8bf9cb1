'use strict';
// A small, strict argument parser: --flag, --key value, --key=value; unknown flags are errors.

function parseArgs(argv, spec) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      out._.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2);
    const kind = spec[name];
    if (!kind) throw usageError(`unknown option --${name}`);
    if (kind === 'boolean') {
      out[name] = true;
      continue;
    }
    const value = inline !== undefined ? inline : argv[++i];
    if (value === undefined || value.startsWith('--')) throw usageError(`--${name} needs a value`);
    out[name] = value;
  }
  return out;
}

function usageError(message) {
  const e = new Error(message);
  e.code = 'USAGE';
  return e;
}

/** Refuses positional arguments beyond the `max` a command takes, naming the first extra one. */
function noExtra(args, max, what) {
  if (args._.length > max) throw usageError(`unexpected argument '${args._[max]}'${what ? ` (${what})` : ''}`);
}

/** Orchestrator options from the common flags: --config-endpoint / --config-file / --gateway. */
function orchestratorOptions(args) {
  const o = {};
  if (args['config-endpoint']) {
    const url = args['config-endpoint'];
    let u = null;
    try {
      u = new URL(url);
    } catch {
      // reported below
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw usageError(`--config-endpoint must be an http(s) URL such as https://config.internal (got '${url}')`);
    o.configEndpoint = url;
  }
  if (args['config-file']) o.configFile = args['config-file'];
  if (!o.configEndpoint && !o.configFile) throw usageError('give --config-endpoint URL (token from CONFIG_SERVICE_TOKEN) or --config-file PATH');
  if (args.gateway) {
    let u;
    try {
      u = new URL(args.gateway);
    } catch {
      throw usageError('--gateway must be a URL such as http://127.0.0.1:8080');
    }
    o.gateway = { protocol: u.protocol.replace(':', ''), host: u.hostname, port: u.port ? Number(u.port) : undefined };
  }
  return o;
}

const CONFIG_FLAGS = { 'config-endpoint': 'string', 'config-file': 'string', gateway: 'string', help: 'boolean' };

module.exports = { parseArgs, usageError, noExtra, orchestratorOptions, CONFIG_FLAGS };
