'use strict';
// The operation catalogue (generated from Genesys's published definitions, compiled into the addon):
// what one Platform API operation needs.
const native = require('./native.js').loadNative();

/**
 * `{ method, template, sdkMethod, permissions: { mode: 'ANY'|'ALL'|'NONE'|'UNKNOWN', list },
 * scopes: string[] | null, replaySafe, inSdk, sdk }` for `method path` (a template or a concrete path,
 * matched by shape: literal segments and parameter slots), or `null` when the Platform API has no such
 * operation. `scopes`: any one of them is accepted; `[]` none is needed; `null` the API definition
 * does not say. `inSdk: false`: only the published definition lists it (a route the SDK dropped;
 * `sdkMethod` is then the definition's name for it).
 */
function explainOperation(method, path) {
  const text = native.explainOperation(String(method), String(path));
  return text === null ? null : JSON.parse(text);
}

/** The SDK release the catalogue was generated from, e.g. `purecloud-platform-client-v2@262.0.0`. */
function catalogueSource() {
  return native.catalogueSource();
}

module.exports = { explainOperation, catalogueSource };
