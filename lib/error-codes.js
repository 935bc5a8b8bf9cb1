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

module.exports = { ErrorCodes };
