'use strict';
/** Every `code` an error from this package can carry. */
const ErrorCodes = Object.freeze([
  'UNKNOWN_TENANT',
  'TENANT_INVALID',
  'CONFIG_UNAVAILABLE',
  'HOST_NOT_ALLOWED',
  'AUTH_FAILED',
  'PERMISSION_MISSING',
  'SCOPE_MISSING',
  'RATE_LIMITED',
  'UPSTREAM_ERROR',
  'NETWORK_ERROR',
  'TIMEOUT',
  'TOO_MANY_PAGES',
  'CLOSED',
  'NOT_INITIALIZED',
  'INVALID_OPTIONS',
  'SDK_NOT_INSTALLED',
  'UNKNOWN_METHOD',
]);

/**
 * An error of this package made in JS (the core builds its own): `Error` (or `TypeError` for a
 * caller's mistake) named `GenesysTenantsError`, with `code` and `fields` as properties.
 */
function packageError(code, message, fields = {}, Kind = Error) {
  const err = new Kind(message);
  err.name = 'GenesysTenantsError';
  err.code = code;
  Object.assign(err, fields);
  return err;
}

/**
 * The package's `INVALID_OPTIONS` error for a bad option or argument: a `TypeError` naming the
 * option and the reason; `message` defaults to "invalid option '<option>': <reason>".
 */
function invalidOption(option, reason, message = `invalid option '${option}': ${reason}`) {
  return packageError('INVALID_OPTIONS', message, { option, reason }, TypeError);
}

module.exports = { ErrorCodes, packageError, invalidOption };
