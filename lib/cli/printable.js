'use strict';
// Text from outside — argv, a config service, a server's answer — quoted in a CLI message. The rule
// (which characters are escaped, and how) is the core's, `untrusted::printable`: every control,
// line-break and bidi character is written as a visible escape, so a value can neither drive the
// terminal (ESC sequences, C1 CSI), nor reorder what is shown (bidi overrides), nor make one refusal
// read as several lines. The binding is loaded at the first use: `--help` and `--version` need none.
const { loadNative } = require('../native.js');

let native = null;
const core = () => (native ??= loadNative());

/** `value` as one line of plain text: control characters written as `\n`, `\x1b`, `\u202e`. */
function printable(value) {
  return core().printable(String(value));
}

/** True when `value` holds a character `printable` would escape. */
function hasUnsafe(value) {
  const text = String(value);
  return core().printable(text) !== text;
}

/** JSON text with no raw control character in any string (the same value: `\uXXXX` inside strings). */
function safeJson(value, indent) {
  return core().printableJson(JSON.stringify(value, null, indent));
}

module.exports = { printable, hasUnsafe, safeJson };
