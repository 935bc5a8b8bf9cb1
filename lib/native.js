'use strict';
// Loads the native addon through napi-rs's generated loader (../index.js), and when it cannot, replaces
// napi's generic "Cannot find native binding" with an error that names this platform, the package the
// loader looked for, why each candidate failed, and what to do. Everything else in lib/ requires this
// file, never ../index.js, so the error is the same whichever entry point a user loads first.
const path = require('node:path');
const pkg = require('../package.json');
const { platformTriple } = require('./platform.js');

/** The only error code defined in JS: when it applies there is no native list to read codes from. */
const NATIVE_BINDING_MISSING = 'NATIVE_BINDING_MISSING';

function loadNative() {
  try {
    return require('../index.js');
  } catch (cause) {
    throw bindingMissing(cause);
  }
}

function bindingMissing(cause) {
  const triple = platformTriple();
  const binaryName = pkg.napi.binaryName;
  const packageName = `${pkg.name}-${triple}`;
  const reasons = causeChain(cause)
    .map((c) => String((c && c.message) || c).split('\n')[0])
    .filter((m) => !m.startsWith('Cannot find native binding'));
  const glibc = reasons.find((m) => /GLIBC_[0-9.]+' not found/.test(m));
  const declared = Object.keys(pkg.optionalDependencies || {}).includes(packageName);
  const lines = [
    `genesys-tenants: no native binding loaded for ${triple} (Node ${process.version}).`,
    `Looked for ${path.join(path.dirname(__dirname), `${binaryName}.${triple}.node`)} and the package ${packageName}@${pkg.version}.`,
  ];
  if (glibc) {
    lines.push(`This system's C library is older than the binary needs (${glibc.match(/GLIBC_[0-9.]+/)[0]}); build from source (below).`);
  } else if (!declared) {
    lines.push(`No prebuilt binary is published for ${triple}; build from source (below).`);
  } else {
    lines.push(
      `Install it with optional dependencies: \`npm install\` without --omit=optional / --no-optional, and with a lockfile made on this platform or \`npm install ${packageName}@${pkg.version}\`.`,
    );
  }
  lines.push(
    'To build from source: install Rust (https://rustup.rs) and a C compiler (gcc or clang), install genesys-tenants from git, or run `npm run build` in its source checkout.',
  );
  if (reasons.length) lines.push(`Load errors: ${reasons.join('; ')}`);
  const err = new Error(lines.join('\n'), { cause });
  err.name = 'GenesysTenantsError';
  err.code = NATIVE_BINDING_MISSING;
  err.platform = triple;
  err.packageName = packageName;
  return err;
}

/** napi's loader nests one error per candidate it tried in `cause`; oldest last. */
function causeChain(err) {
  const chain = [];
  for (let e = err; e && chain.length < 16; e = e.cause) chain.push(e);
  return chain.reverse();
}

module.exports = { loadNative, bindingMissing, NATIVE_BINDING_MISSING };
