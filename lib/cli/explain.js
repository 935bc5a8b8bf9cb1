'use strict';
// `genesys-tenants explain METHOD PATH`: what the operation catalogue (generated from Genesys's
// published definitions) says a call needs.
const { explainOperation, catalogueSource } = require('../catalogue.js');
const { parseArgs, usageError, noExtra } = require('./args.js');
const { printable, safeJson } = require('./printable.js');

const USAGE = `usage: genesys-tenants explain METHOD PATH [--json]

Prints what one Platform API operation needs: its permissions (ANY: one of them; ALL: every one), the
OAuth scopes it accepts (any one of them), and whether a failed attempt may be sent again.
PATH may be a template or a concrete path: /api/v2/users/{userId} or /api/v2/users/0b1c…
Exits 1 when the API has no such operation.`;

/** "ANY of a, b" / "ALL of a" / "none" / "not documented". */
function permissionText(p) {
  switch (p.mode) {
    case 'NONE':
      return 'none';
    case 'UNKNOWN':
      return 'not documented for this operation (newer than the definitions the catalogue was built from, or documented by a role name)';
    default:
      return `${p.mode} of ${p.list.join(', ')}`;
  }
}

/** "any one of a, b" / "none needed" / "not listed". */
function scopeText(scopes) {
  if (scopes === null) return 'not listed in the API definition (the API decides)';
  if (scopes.length === 0) return 'none needed';
  return scopes.length === 1 ? scopes[0] : `any one of ${scopes.join(', ')}`;
}

async function main(argv) {
  const args = parseArgs(argv, { json: 'boolean', help: 'boolean' });
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (args._.length < 2) throw usageError('explain needs METHOD and PATH, e.g. explain GET /api/v2/users/me');
  noExtra(args, 2, 'explain takes METHOD and PATH');
  const [method, path] = args._;
  const op = explainOperation(method, path);
  if (args.json) {
    console.log(safeJson(op, 2));
    return op ? 0 : 1;
  }
  if (!op) {
    // Both are the caller's text: escaped, so the refusal is the one line it looks like.
    console.log(`${printable(method.toUpperCase())} ${printable(path)}: not an operation of the Platform API (as of ${catalogueSource()})`);
    return 1;
  }
  const sdkText = op.inSdk ? `SDK: ${op.sdkMethod}` : `not in ${op.sdk}; the API definition names it ${op.sdkMethod}`;
  console.log(`${op.method} ${op.template}  (${sdkText})`);
  console.log(`  permissions   ${permissionText(op.permissions)}`);
  console.log(`  scopes        ${scopeText(op.scopes)}`);
  console.log(`  replay-safe   ${op.replaySafe ? 'yes: retried after a 5xx or a lost answer' : 'no: a failed attempt is not sent again'}`);
  console.log(`  source        ${op.sdk}`);
  return 0;
}

module.exports = { main, USAGE, permissionText, scopeText };
