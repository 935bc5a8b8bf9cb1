#!/usr/bin/env node
// Generates crates/catalogue/data/operations.json — every operation of the Platform API the pinned
// official SDK can call, and every other one the published definition lists, with its permissions
// (ANY / ALL / none), the OAuth scopes it accepts (any one of them) and whether it is safe to replay —
// from Genesys's published definitions, not by hand:
//
//   operations   the installed SDK (node_modules/purecloud-platform-client-v2, the version package.json
//                pins): every callApi(path, method) of src/…/api/*.js; plus the definition's operations
//                the SDK has no method for (deprecated routes it dropped, e.g. /api/v2/webchat/*: the
//                API still serves them, and a raw request() reaches them), flagged in-SDK 0
//   permissions  the SDK repository's build/docs/*Api.md ("Requires ANY permissions: * a:b:c"), else the
//                OpenAPI definition's x-inin-requires-permissions
//   scopes       the OpenAPI definition's security: [{"PureCloud OAuth": [...]}], read from the converted
//                openapi/*.yml of api-evangelist/genesys (the SDK repository's root swagger.json is not
//                always readable from a mirror)
//
// Usage (the inputs are checkouts of public repositories; nothing is downloaded here):
//   node scripts/gen-catalogue.mjs --docs <platform-client-sdk-javascript>/build/docs \
//        --openapi <api-evangelist/genesys>/openapi [--docs-version 259.0.0] [--openapi-version 2026-08-07] \
//        [--docs-commit SHA] [--openapi-commit SHA]
// Builds read the committed output; regenerate after bumping purecloud-platform-client-v2 (a test fails
// until you do).
//
// Sources are joined by path SHAPE — literal segments and parameter slots — never by parameter names:
// `GET /a/{id}` in the SDK is `GET /a/{aId}` in the definition. Two templates of one shape and method
// in one source would be ambiguous: the generator refuses them.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUTPUT = path.join(root, 'crates', 'catalogue', 'data', 'operations.json');
export const SDK_DIR = path.join(root, 'node_modules', 'purecloud-platform-client-v2');
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** `METHOD /a/{}/b`: a template's method and shape, parameter names left out. */
export function shapeKey(method, template) {
  return `${method.toUpperCase()} ${template.replace(/\{[^}/]*\}/g, '{}')}`;
}

/** Map `key` → value re-keyed by shape; two keys of one shape are refused (`what` names the source). */
function byShape(map, what) {
  const out = new Map();
  for (const [key, value] of map) {
    const [method, template] = key.split(' ');
    const shape = shapeKey(method, template);
    if (out.has(shape)) throw new Error(`${what}: ${key} and ${out.get(shape).key} have the same shape`);
    out.set(shape, { ...value, key, template });
  }
  return out;
}

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
export function readDocs(dir) {
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
 * "METHOD /path" → { scopes, permissions?, name } from the converted OpenAPI YAML. The files are
 * machine written with a fixed layout (paths at 2 spaces, methods at 4, fields at 6), read line by
 * line. A path longer than the writer's key limit is written as a complex key — `  ? /api/v2/…` and
 * its first method on the next line as `  : get:` — which the first version of this reader skipped
 * (17 paths, among them the social-media `…/versions/{dataIngestionRuleVersion}` routes).
 */
export function readOpenApi(dir) {
  const out = new Map();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yml')).sort()) {
    let p = null;
    let op = null;
    let field = null;
    let scheme = null;
    const start = (method) => {
      op = { scopes: [], permissions: null, name: null };
      scheme = null;
      // The same operation may be listed under several tags: the first listing wins.
      const key = `${method.toUpperCase()} ${p}`;
      if (!out.has(key)) out.set(key, op);
      field = null;
    };
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      let m;
      if (/^\S/.test(line)) {
        // A top-level key (paths:, definitions:, …).
        p = null;
        op = null;
      } else if ((m = /^ {2}(?:\? )?(\/api\/v2\S*?):?$/.exec(line))) {
        p = m[1];
        op = null;
      } else if (p && (m = /^ {2}: (get|head|post|put|patch|delete|options):$/.exec(line))) {
        start(m[1]);
      } else if (/^ {2}\S/.test(line)) {
        // Any other entry at path level: not an API path.
        p = null;
        op = null;
      } else if (p && (m = /^ {4}(get|head|post|put|patch|delete|options):$/.exec(line))) {
        start(m[1]);
      } else if (/^ {4}\S/.test(line)) {
        // A path-level key (parameters:): not a field of the operation before it.
        op = null;
      } else if (op) {
        if (/^ {6}[A-Za-z]/.test(line)) field = null;
        if (/^ {6}security:/.test(line)) field = 'security';
        else if ((m = /^ {6}x-purecloud-method-name: (\S+)/.exec(line))) op.name = m[1];
        else if (/^ {6}x-inin-requires-permissions:/.test(line)) {
          field = 'permissions';
          op.permissions = { mode: null, permissions: [] };
        } else if (field === 'security' && (m = /^ {6}- ([^:]+):/.exec(line))) scheme = m[1];
        // Only the OAuth scheme's list is scopes (the JWT schemes of guest routes list none).
        else if (field === 'security' && scheme === 'PureCloud OAuth' && (m = /^ {8}- (\S+)$/.exec(line))) op.scopes.push(m[1]);
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

/**
 * The table: the SDK's operations and the definition's, joined by shape. `sdk`: "METHOD /path" →
 * SDK method names; `docs`, `openapi`: "METHOD /path" → what each says.
 */
export function build(sdk, docs, openapi) {
  const sdkShapes = byShape(new Map([...sdk].map(([k, names]) => [k, { names }])), 'the SDK');
  const docShapes = byShape(docs, 'the SDK docs');
  const defShapes = byShape(openapi, 'the OpenAPI definition');
  const strings = [];
  const index = new Map();
  const intern = (s) => {
    if (!index.has(s)) {
      index.set(s, strings.length);
      strings.push(s);
    }
    return index.get(s);
  };
  const counts = {
    operations: 0,
    inSdk: 0,
    definitionOnly: 0,
    permissionsFromDocs: 0,
    permissionsFromOpenApi: 0,
    permissionsUnknown: 0,
    scopesKnown: 0,
    scopesNone: 0,
    scopesUnknown: 0,
    replaySafe: 0,
  };
  // Every shape of either source, once: the SDK's template and method name where it has the
  // operation, else the definition's (its x-purecloud-method-name: the name SDKs generated for it).
  const rows = [...sdkShapes.values()].map((s) => ({ key: s.key, template: s.template, name: s.names[0], inSdk: 1 }));
  for (const [shape, o] of defShapes) {
    if (!sdkShapes.has(shape)) rows.push({ key: o.key, template: o.template, name: o.name || '', inSdk: 0 });
  }
  rows.sort((x, y) => {
    const [mx] = x.key.split(' ');
    const [my] = y.key.split(' ');
    return x.template < y.template ? -1 : x.template > y.template ? 1 : METHODS.indexOf(mx) - METHODS.indexOf(my);
  });
  const ops = [];
  for (const { key, template, name, inSdk } of rows) {
    const [method] = key.split(' ');
    const shape = shapeKey(method, template);
    const d = docShapes.get(shape);
    const o = defShapes.get(shape);
    let mode;
    let permissions;
    let from;
    if (d) {
      ({ mode, permissions } = d);
      from = 'permissionsFromDocs';
    } else if (o && o.permissions && o.permissions.mode) {
      permissions = o.permissions.permissions;
      mode = permissions.length ? o.permissions.mode : 'NONE';
      from = 'permissionsFromOpenApi';
    } else if (o) {
      ({ mode, permissions } = { mode: 'NONE', permissions: [] });
      from = 'permissionsFromOpenApi';
    } else {
      ({ mode, permissions } = { mode: '?', permissions: [] });
    }
    // Unknown: in neither source, or the docs name something that is not a permission.
    counts[mode === '?' ? 'permissionsUnknown' : from] += 1;
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
    counts[inSdk ? 'inSdk' : 'definitionOnly'] += 1;
    ops.push([method, template, name, mode, permissions.map(intern), scopes, safe ? 1 : 0, inSdk]);
  }
  // Self-checks: every operation of each source is in the table once, by shape; every operation the
  // docs describe carries exactly the docs' permissions.
  const table = new Map(ops.map((op) => [shapeKey(op[0], op[1]), op]));
  if (table.size !== ops.length) throw new Error('two rows of one shape');
  for (const [shape, { key }] of [...sdkShapes, ...defShapes]) {
    if (!table.has(shape)) throw new Error(`${key}: not in the table`);
  }
  for (const op of ops) {
    // A scope listed twice means the reader merged two operations' lists.
    if (op[5] && new Set(op[5]).size !== op[5].length) throw new Error(`${op[0]} ${op[1]}: a scope listed twice`);
  }
  for (const [shape, d] of docShapes) {
    const op = table.get(shape);
    if (op && (op[3] !== d.mode || op[4].map((i) => strings[i]).join() !== d.permissions.join())) {
      throw new Error(`${d.key}: permissions differ from the docs`);
    }
  }
  return { counts, strings, ops };
}

function main() {
  const a = args(process.argv.slice(2));
  if (!a.docs || !a.openapi) {
    console.error('usage: node scripts/gen-catalogue.mjs --docs DIR --openapi DIR [--sdk DIR] [--docs-version V] [--openapi-version V] [--docs-commit SHA] [--openapi-commit SHA]');
    process.exit(2);
  }
  const sdkDir = a.sdk || SDK_DIR;
  const { counts, strings, ops } = build(sdkOperations(sdkDir), readDocs(a.docs), readOpenApi(a.openapi));
  const doc = {
    generatedBy: 'scripts/gen-catalogue.mjs',
    sdk: `purecloud-platform-client-v2@${sdkVersion(sdkDir)}`,
    sources: {
      operations: 'the installed SDK: callApi(path, method) of src/purecloud-platform-client-v2/api/*.js; and the OpenAPI definition\'s operations the SDK has no method for (in-SDK 0)',
      permissions: `MyPureCloud/platform-client-sdk-javascript build/docs/*Api.md${a['docs-version'] ? ` at ${a['docs-version']}` : ''}${a['docs-commit'] ? ` (commit ${a['docs-commit']})` : ''}, else the OpenAPI x-inin-requires-permissions`,
      scopes: `api-evangelist/genesys openapi/*.yml${a['openapi-version'] ? ` (${a['openapi-version']})` : ''}${a['openapi-commit'] ? ` (commit ${a['openapi-commit']})` : ''}: security "PureCloud OAuth"`,
    },
    counts,
    unknown: {
      scopes: 'operations of the SDK that the OpenAPI definition used does not list (added after it was published): scopes null, pre-flight lets the API decide',
      permissions: 'mode ?: operations the SDK docs used and the OpenAPI definition used both lack (added after both), or whose docs name no permission (\"content_management_user\")',
    },
    format: 'ops: [method, path template, SDK method (the definition\'s name when in-SDK is 0), permission mode ANY|ALL|NONE|? (unknown), permission string indexes, accepted scope string indexes (any one suffices; [] none needed; null unknown), replay-safe 0|1, in-SDK 1|0 (0: only the OpenAPI definition lists it)]',
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
