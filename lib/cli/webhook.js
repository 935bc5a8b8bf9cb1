'use strict';
// `genesys-tenants webhook sign`: a signed test delivery for a rotation webhook, printed as the
// header, the body and a curl line. The signature is made by the core (the same code that checks it).
const native = require('../native.js').loadNative();
const { parseArgs, usageError, noExtra } = require('./args.js');
const { hasUnsafe } = require('./printable.js');

// --timestamp: unix seconds, a plain decimal integer no later than 9999-12-31T23:59:59Z (what a date
// can name; anything beyond is a typo or an attack on the signer, never a test worth signing).
const MAX_TIMESTAMP_S = 253402300799;

/** `--timestamp`'s value as unix seconds, or a usage error quoting it. */
function timestampOf(text) {
  const t = /^[0-9]{1,12}$/.test(text) ? Number(text) : NaN;
  if (!(t <= MAX_TIMESTAMP_S)) throw usageError(`--timestamp must be unix seconds: a whole number from 0 to ${MAX_TIMESTAMP_S} (got '${text}')`);
  return t;
}

/** `--url` checked: an http(s) URL with no control character (it is printed in the curl line). */
function urlOf(text) {
  let u = null;
  try {
    u = new URL(text);
  } catch {
    // reported below
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || hasUnsafe(text)) {
    throw usageError(`--url must be an http(s) URL such as http://127.0.0.1:3000/hooks/rotate (got '${text}')`);
  }
  return text;
}

const USAGE = `usage: genesys-tenants webhook sign (--tenant ID[,ID…] | --all) [--secret S] [--url URL] [--timestamp UNIX_S]

Prints a signed rotation-webhook delivery: the X-Genesys-Tenants-Signature header, the body, and a curl
line to send it (with --url). The secret comes from --secret or GENESYS_TENANTS_WEBHOOK_SECRET; it is
never printed. --timestamp is whole unix seconds, 0 to ${MAX_TIMESTAMP_S} (default: now).`;

function main(argv) {
  const [verb, ...rest] = argv;
  const args = parseArgs(rest, { help: 'boolean', tenant: 'string', all: 'boolean', secret: 'string', url: 'string', timestamp: 'string' });
  if (verb === '--help' || args.help || verb === undefined) {
    console.log(USAGE);
    return verb === undefined ? 2 : 0;
  }
  if (verb !== 'sign') throw usageError(`unknown webhook command '${verb}' (only 'sign')`);
  noExtra(args, 0, 'sign takes flags only');
  const secret = args.secret ?? process.env.GENESYS_TENANTS_WEBHOOK_SECRET;
  if (!secret) throw usageError('needs --secret or GENESYS_TENANTS_WEBHOOK_SECRET');
  if (!!args.tenant === !!args.all) throw usageError('give exactly one of --tenant and --all');
  const ids = args.tenant ? args.tenant.split(',').filter(Boolean) : [];
  // A tenant id never holds a control character (the config refuses one): such an id is a mistake.
  if (ids.some(hasUnsafe)) throw usageError(`--tenant ids must not contain control characters (got '${args.tenant}')`);
  const timestamp = args.timestamp === undefined ? Math.floor(Date.now() / 1000) : timestampOf(args.timestamp);
  const url = args.url === undefined ? undefined : urlOf(args.url);
  const body = JSON.stringify(args.all ? { all: true } : ids.length === 1 ? { tenantId: ids[0] } : { tenantIds: ids });
  const signature = native.signWebhook(secret, timestamp, Buffer.from(body));
  const { header } = JSON.parse(native.webhookLimits());
  console.log(`${header}: ${signature}`);
  console.log(body);
  if (url) {
    const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
    console.log(`curl -sS -X POST ${q(url)} -H ${q('content-type: application/json')} -H ${q(`${header}: ${signature}`)} --data-binary ${q(body)}`);
  }
  return 0;
}

module.exports = { main };
