'use strict';
// The napi-rs platform triple for this process (`linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`, …): the
// suffix of the addon's file name and of the platform package that ships it and the emulator.
const fs = require('node:fs');

function isMusl() {
  if (process.platform !== 'linux') return false;
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null;
    return Boolean(report && !report.header?.glibcVersionRuntime);
  }
}

function platformTriple() {
  const { platform, arch } = process;
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

module.exports = { platformTriple };
