'use strict';
const { loadNative, NATIVE_BINDING_MISSING } = require('./native.js');

const native = loadNative();

/** Every `code` an error from this package can carry: the core's list (`Error::CODES`). */
const ErrorCodes = Object.freeze(native.errorCodes());

/** Every event `type` the core emits (`EventKind::ALL`). */
const EventKinds = Object.freeze(native.eventKinds());

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

/**
 * True for an error of this package: named `GenesysTenantsError` with one of its codes. Duck-typed,
 * not `instanceof`, so it holds across realms (Jest runs tests in their own VM context).
 */
function isGenesysTenantsError(value) {
  return (
    value !== null &&
    typeof value === 'object' &&
    value.name === 'GenesysTenantsError' &&
    typeof value.code === 'string' &&
    (ErrorCodes.includes(value.code) || value.code === NATIVE_BINDING_MISSING)
  );
}

module.exports = { ErrorCodes, EventKinds, packageError, invalidOption, isGenesysTenantsError };
