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
]);

/**
 * The package's `INVALID_OPTIONS` error for a bad option or argument: a `TypeError` naming the
 * option and the reason; `message` defaults to "invalid option '<option>': <reason>".
 */
function invalidOption(option, reason, message = `invalid option '${option}': ${reason}`) {
  const err = new TypeError(message);
  err.code = 'INVALID_OPTIONS';
  err.option = option;
  err.reason = reason;
  return err;
}

module.exports = { ErrorCodes, invalidOption };
