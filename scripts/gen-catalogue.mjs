#!/usr/bin/env node
// Generates crates/catalogue/data/operations.json — every operation of the Platform API the pinned
// official SDK can call, with its permissions (ANY / ALL / none), the OAuth scopes it accepts (any
// one of them) and whether it is safe to replay — from Genesys's published definitions, not by hand:
//
//   operations   the installed SDK (node_modules/purecloud-platform-client-v2, the version package.json
//                pins): every callApi(path, method) of src/…/api/*.js
//   permissions  the SDK repository's build/docs/*Api.md ("Requires ANY permissions: * a:b:c"), else the
//                OpenAPI definition's x-inin-requires-permissions
//   scopes       the OpenAPI definition's security: [{"PureCloud OAuth": [...]}], read from the converted
//                openapi/*.yml of api-evangelist/genesys (the SDK repository's root swagger.json is not
//                always readable from a mirror)
//
// Usage (the inputs are checkouts of public repositories; nothing is downloaded here):
//   node scripts/gen-catalogue.mjs --docs <platform-client-sdk-javascript>/build/docs \
//        --openapi <api-evangelist/genesys>/openapi [--docs-version 259.0.0] [--openapi-version 2026-08-07]
// Builds read the committed output; regenerate after bumping purecloud-platform-client-v2 (a test fails
// until you do).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUTPUT = path.join(root, 'crates', 'catalogue', 'data', 'operations.json');
export const SDK_DIR = path.join(root, 'node_modules', 'purecloud-platform-client-v2');
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Every operation the SDK at `sdkDir` can call: Map "METHOD /path" → sorted SDK method names.
 * (One operation can appear in several API classes under one name.)
 */
export function sdkOperations(sdkDir = SDK_DIR) {
  const apiDir = path.join(sdkDir, 'src', 'purecloud-platform-client-v2', 'api');
  const ops = new Map();
  for (const file of fs.readdirSync(apiDir).filter((f) => f.endsWith('Api.js')).sort()) {
    const text = fs.readFileSync(path.join(apiDir, file), 'utf8');
    // Each method's body runs from its header to the next one; the body's callApi names the route.
    const heads = [...text.matchAll(/\n\t(\w+)\([^)]*\) \{/g)];
    heads.forEach((h, i) => {
      const body = text.slice(h.index, i + 1 < heads.length ? heads[i + 1].index : text.length);
      const call = /callApi\(\s*'([^']+)',\s*'(\w+)'/.exec(body);
      if (!call || h[1] === 'constructor') return;
      const key = `${call[2].toUpperCase()} ${call[1]}`;
      if (!ops.has(key)) ops.set(key, new Set());
      ops.get(key).add(h[1]);
    });
  }
  return new Map([...ops].map(([k, names]) => [k, [...names].sort()]));
}

export function sdkVersion(sdkDir = SDK_DIR) {
  return JSON.parse(fs.readFileSync(path.join(sdkDir, 'package.json'), 'utf8')).version;
}

/** "METHOD /path" → { mode: 'ANY' | 'ALL' | 'NONE', permissions } from the SDK's generated docs. */
function readDocs(dir) {
  const out = new Map();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('Api.md'))) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const re = /^## (\w+)\n[\s\S]*?^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (\/\S+)\n[\s\S]*?^Requires (ANY|ALL|NO) permissions:\n\n((?:\* .*\n)*)/gm;
    for (let m; (m = re.exec(text)); ) {
      const permissions = m[5].split('\n').filter(Boolean).map((l) => l.slice(2).trim()).filter(isPermission);
      // "Requires ANY permissions: * They are enforced by the backend" names none: unknown, not none.
      const listed = m[5].trim() !== '';
      out.set(`${m[2]} ${m[3]}`, { mode: m[4] === 'NO' || !listed ? 'NONE' : permissions.length ? m[4] : '?', permissions });
    }
  }
  return out;
}

/** A permission name (`domain:entity:action`); the docs sometimes hold a sentence instead. */
function isPermission(p) {
  return /^[A-Za-z0-9_-]+(:[A-Za-z0-9_*-]+)+$/.test(p);
}

/**
 * "METHOD /path" → { scopes, permissions? } from the converted OpenAPI YAML. The files are machine
 * written with a fixed layout (paths at 2 spaces, methods at 4, fields at 6), read line by line.
 */
function readOpenApi(dir) {
  const out = new Map();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yml')).sort()) {
    let p = null;
    let op = null;
    let field = null;
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      let m;
      if ((m = /^ {2}(\/api\/v2\S*):$/.exec(line))) {
        p = m[1];
        op = null;
      } else if (/^\S/.test(line)) {
        p = null;
        op = null;
      } else if (p && (m = /^ {4}(get|head|post|put|patch|delete|options):$/.exec(line))) {
        op = { scopes: [], scheme: false, permissions: null };
        // The same operation may be listed under several tags: the first listing wins.
        const key = `${m[1].toUpperCase()} ${p}`;
        if (!out.has(key)) out.set(key, op);
        field = null;
      } else if (op) {
        if (/^ {6}[A-Za-z]/.test(line)) field = null;
        if (/^ {6}security:/.test(line)) field = 'security';
        else if (/^ {6}x-inin-requires-permissions:/.test(line)) {
          field = 'permissions';
          op.permissions = { mode: null, permissions: [] };
        } else if (field === 'security' && /^ {6}- PureCloud OAuth:/.test(line)) op.scheme = true;
        else if (field === 'security' && (m = /^ {8}- (\S+)$/.exec(line))) op.scopes.push(m[1]);
        else if (field === 'permissions' && (m = /^ {8}type: (\S+)/.exec(line))) op.permissions.mode = m[1];
        else if (field === 'permissions' && (m = /^ {8}- (\S+)$/.exec(line)) && isPermission(m[1])) op.permissions.permissions.push(m[1]);
      }
    }
  }
  return out;
}

/**
 * Safe to send again after a 5xx or a lost answer: the idempotent methods, and POSTs whose last
 * segment is `query` or `search` (read-only queries). A POST that accepts a `:readonly` scope is not
 * enough: about 40 analytics `…/jobs` accept one and create a job each time.
 */
export function replaySafe(method, template) {
  if (['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'].includes(method)) return true;
  return method === 'POST' && /\/(query|search)$/.test(template);
}

function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

function main() {
  const a = args(process.argv.slice(2));
  if (!a.docs || !a.openapi) {
    console.error('usage: node scripts/gen-catalogue.mjs --docs DIR --openapi DIR [--sdk DIR] [--docs-version V] [--openapi-version V]');
    process.exit(2);
  }
  const sdk = sdkOperations(a.sdk || SDK_DIR);
  const docs = readDocs(a.docs);
  const openapi = readOpenApi(a.openapi);

  const strings = [];
  const index = new Map();
  const intern = (s) => {
    if (!index.has(s)) {
      index.set(s, strings.length);
      strings.push(s);
    }
    return index.get(s);
  };
  const counts = { operations: 0, permissionsFromDocs: 0, permissionsFromOpenApi: 0, permissionsUnknown: 0, scopesKnown: 0, scopesNone: 0, scopesUnknown: 0, replaySafe: 0 };
  const ops = [];
  const keys = [...sdk.keys()].sort((x, y) => {
    const [mx, px] = x.split(' ');
    const [my, py] = y.split(' ');
    return px < py ? -1 : px > py ? 1 : METHODS.indexOf(mx) - METHODS.indexOf(my);
  });
  for (const key of keys) {
    const [method, template] = key.split(' ');
    const d = docs.get(key);
    const o = openapi.get(key);
    let mode;
    let permissions;
    if (d) {
      ({ mode, permissions } = d);
      counts.permissionsFromDocs += 1;
    } else if (o && o.permissions && o.permissions.mode) {
      permissions = o.permissions.permissions;
      mode = permissions.length ? o.permissions.mode : 'NONE';
      counts.permissionsFromOpenApi += 1;
    } else if (o) {
      ({ mode, permissions } = { mode: 'NONE', permissions: [] });
      counts.permissionsFromOpenApi += 1;
    } else {
      ({ mode, permissions } = { mode: '?', permissions: [] });
      counts.permissionsUnknown += 1;
    }
    // Scopes: the accepted list; [] when the operation needs none (no OAuth scheme, or an empty one);
    // null when the definition does not list the operation.
    let scopes = null;
    if (o) {
      scopes = o.scopes.map(intern);
      counts[scopes.length ? 'scopesKnown' : 'scopesNone'] += 1;
    } else counts.scopesUnknown += 1;
    const safe = replaySafe(method, template);
    if (safe) counts.replaySafe += 1;
    counts.operations += 1;
    ops.push([method, template, sdk.get(key)[0], mode, permissions.map(intern), scopes, safe ? 1 : 0]);
  }
  // Self-check: every operation the docs describe carries exactly the docs' permissions.
  for (const [key, d] of docs) {
    const op = ops.find(([m, t]) => `${m} ${t}` === key);
    if (op && (op[3] !== d.mode || op[4].map((i) => strings[i]).join() !== d.permissions.join())) {
      throw new Error(`${key}: permissions differ from the docs`);
    }
  }
  const doc = {
    generatedBy: 'scripts/gen-catalogue.mjs',
    sdk: `purecloud-platform-client-v2@${sdkVersion(a.sdk || SDK_DIR)}`,
    sources: {
      operations: 'the installed SDK: callApi(path, method) of src/purecloud-platform-client-v2/api/*.js',
      permissions: `MyPureCloud/platform-client-sdk-javascript build/docs/*Api.md${a['docs-version'] ? ` at ${a['docs-version']}` : ''}, else the OpenAPI x-inin-requires-permissions`,
      scopes: `api-evangelist/genesys openapi/*.yml${a['openapi-version'] ? ` (${a['openapi-version']})` : ''}: security "PureCloud OAuth"`,
    },
    counts,
    format: 'ops: [method, path template, SDK method, permission mode ANY|ALL|NONE|? (unknown), permission string indexes, accepted scope string indexes (any one suffices; [] none needed; null unknown), replay-safe 0|1]',
    strings,
    ops,
  };
  fs.mkdirSync(path.dirname(OUTPUT), { recursive: true });
  // One operation per line: readable diffs when the SDK is bumped.
  const body = [
    '{',
    ...Object.entries(doc)
      .filter(([k]) => k !== 'ops' && k !== 'strings')
      .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`),
    `  "strings": ${JSON.stringify(strings)},`,
    '  "ops": [',
    ops.map((o) => `    ${JSON.stringify(o)}`).join(',\n'),
    '  ]',
    '}',
    '',
  ].join('\n');
  fs.writeFileSync(OUTPUT, body);
  console.log(`${path.relative(root, OUTPUT)}: ${counts.operations} operations, ${strings.length} strings, ${body.length} bytes`);
  console.log(JSON.stringify(counts));
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) main();
