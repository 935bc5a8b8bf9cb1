'use strict';
// `genesys-tenants webhook sign`: a signed test delivery for a rotation webhook, printed as the
// header, the body and a curl line. The signature is made by the core (the same code that checks it).
const native = require('../native.js').loadNative();
const { parseArgs, usageError, noExtra } = require('./args.js');

const USAGE = `usage: genesys-tenants webhook sign (--tenant ID[,ID…] | --all) [--secret S] [--url URL] [--timestamp UNIX_S]

Prints a signed rotation-webhook delivery: the X-Genesys-Tenants-Signature header, the body, and a curl
line to send it (with --url). The secret comes from --secret or GENESYS_TENANTS_WEBHOOK_SECRET; it is
never printed.`;

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
  const body = JSON.stringify(args.all ? { all: true } : ids.length === 1 ? { tenantId: ids[0] } : { tenantIds: ids });
  const timestamp = args.timestamp === undefined ? Math.floor(Date.now() / 1000) : Number(args.timestamp);
  const signature = native.signWebhook(secret, timestamp, Buffer.from(body));
  const { header } = JSON.parse(native.webhookLimits());
  console.log(`${header}: ${signature}`);
  console.log(body);
  if (args.url) {
    const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
    console.log(`curl -sS -X POST ${q(args.url)} -H ${q('content-type: application/json')} -H ${q(`${header}: ${signature}`)} --data-binary ${q(body)}`);
  }
  return 0;
}

module.exports = { main };
