'use strict';
// Text from outside — argv, a config service, a server's answer — quoted in a CLI message. Every
// control character is escaped, so a value can neither drive the terminal (ESC sequences, C1 CSI),
// nor reorder what is shown (bidi overrides), nor make one refusal read as several lines.

// C0, DEL, C1, the Unicode line and paragraph separators, and the bidi marks, embeddings, overrides
// and isolates.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_ONE = new RegExp(UNSAFE.source); // not global: test() keeps no lastIndex
// The same set less C0, which JSON.stringify already escapes inside strings (and uses, outside them,
// only for its own indentation).
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c) {
  if (NAMED[c]) return NAMED[c];
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `value` as one line of plain text: control characters written as `\n`, `\x1b`, `\u202e`. */
function printable(value) {
  return String(value).replace(UNSAFE, escapeChar);
}

/** True when `value` holds a character `printable` would escape. */
function hasUnsafe(value) {
  return UNSAFE_ONE.test(String(value));
}

/**
 * JSON text with no raw control character in any string: JSON.stringify escapes C0 itself; the rest
 * can only sit inside strings, where `\uXXXX` is the same value.
 */
function safeJson(value, indent) {
  return JSON.stringify(value, null, indent).replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

module.exports = { printable, hasUnsafe, safeJson };
