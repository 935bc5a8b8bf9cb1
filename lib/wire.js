'use strict';
// JS values → the JSON text the native layer reads. This is conversion only (every option rule lives
// in Rust): it reads own enumerable properties the way JSON.stringify does — never inherited ones —
// and refuses, naming the field, what JSON cannot carry faithfully (NaN, ±Infinity, functions,
// symbols, bigints, cycles), where JSON.stringify would silently write null or drop the key.
const { invalidOption } = require('./error-codes.js');

const MAX_DEPTH = 64;

function describe(value) {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'bigint') return 'a bigint';
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'function') return 'a function';
  return typeof value;
}

function check(value, path, depth, seen) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw invalidOption(path || 'options', `must be a finite number, got ${describe(value)}`);
      return;
    case 'object': {
      if (value === null) return;
      if (typeof value.toJSON === 'function') return; // Dates and the like: JSON's own rule
      if (depth > MAX_DEPTH || seen.has(value)) {
        throw invalidOption(path || 'options', seen.has(value) ? 'refers to itself' : `is nested more than ${MAX_DEPTH} levels deep`);
      }
      seen.add(value);
      if (Array.isArray(value)) {
        value.forEach((item, i) => check(item, `${path}[${i}]`, depth + 1, seen));
      } else {
        for (const key of Object.keys(value)) check(value[key], path ? `${path}.${key}` : key, depth + 1, seen);
      }
      seen.delete(value);
      return;
    }
    default:
      throw invalidOption(path || 'options', `must be JSON data, got ${describe(value)}`);
  }
}

/**
 * `value` as JSON text for the native layer, or `INVALID_OPTIONS` naming the first field JSON cannot
 * carry by its path as the caller wrote it (`maxRetries`, `gateway.port`, `allowedHosts[1]`).
 */
function toWire(value) {
  check(value, '', 0, new Set());
  return JSON.stringify(value === undefined ? null : value);
}

module.exports = { toWire };
