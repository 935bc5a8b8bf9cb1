'use strict';
// What a built binary is, measured from the file (not from what a build said it did): its format and machine,
// for ELF the C library it links (glibc symbol versions, NEEDED libraries, interpreter) and whether it is
// stripped. `problems()` lists every way a binary falls short of what a release ships for a platform;
// scripts/package.js refuses to pack one with problems, and __test__/platforms.test.mjs asserts there are none.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const crypto = require('node:crypto');
const { PLATFORMS, GLIBC_BASELINE } = require('./toolchain.js');

const ELF_MACHINES = { 'Advanced Micro Devices X86-64': 'x86_64', AArch64: 'aarch64' };
const MACHO_CPU = { 0x01000007: 'x86_64', 0x0100000c: 'aarch64' };
const PE_MACHINE = { 0x8664: 'x86_64', 0xaa64: 'aarch64' };

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function readelf(file) {
  const r = spawnSync('readelf', ['-h', '-l', '-d', '-V', '-S', '--dyn-syms', '-W', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`readelf (binutils) is needed to check ${file}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`readelf ${file}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Format, machine and, for ELF, libc facts and strippedness of one binary. */
function inspect(file) {
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(4096);
  fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  if (head.readUInt32BE(0) === 0x7f454c46) {
    const out = readelf(file);
    const machineName = (out.match(/^\s*Machine:\s+(.+)$/m) || [])[1]?.trim();
    const versions = [...out.matchAll(/GLIBC_(\d+)\.(\d+)(?:\.(\d+))?/g)].map((m) => [Number(m[1]), Number(m[2])]);
    versions.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return {
      format: 'elf',
      machine: ELF_MACHINES[machineName] || machineName || 'unknown',
      glibcMax: versions.length ? versions.at(-1).join('.') : null,
      needed: [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]),
      interpreter: (out.match(/Requesting program interpreter: ([^\]]+)\]/) || [])[1] || null,
      stripped: !/\s\.symtab\s/.test(out) && !/\s\.debug_info\s/.test(out),
      // Node finds an N-API addon by this exported function.
      napiEntry: /\sFUNC\s+GLOBAL\s+DEFAULT\s+\d+\s+napi_register_module_v1$/m.test(out),
    };
  }
  if (head.readUInt32LE(0) === 0xfeedfacf) return { format: 'macho', machine: MACHO_CPU[head.readUInt32LE(4)] || 'unknown' };
  if (head.readUInt32LE(0) === 0xcafebabe || head.readUInt32BE(0) === 0xcafebabe) return { format: 'macho-universal', machine: 'universal' };
  if (head.toString('latin1', 0, 2) === 'MZ') {
    const pe = head.readUInt32LE(0x3c);
    if (pe + 6 <= head.length && head.toString('latin1', pe, pe + 4) === 'PE\0\0') return { format: 'pe', machine: PE_MACHINE[head.readUInt16LE(pe + 4)] || 'unknown' };
  }
  return { format: 'unknown', machine: 'unknown' };
}

function versionAbove(v, max) {
  const [a, b] = v.split('.').map(Number);
  const [c, d] = max.split('.').map(Number);
  return a > c || (a === c && b > d);
}

const GLIBC_LIBS = /^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux[-\w.]*\.so\.\d)$/;

/** Every way `file` falls short of a release binary for `platform`; empty when it is fine. */
function problems(platform, file) {
  const p = PLATFORMS[platform];
  if (!p) return [`${platform} is not a platform this package ships`];
  if (!fs.existsSync(file)) return [`${file} is missing`];
  const facts = inspect(file);
  const name = require('node:path').basename(file);
  const out = [];
  const format = platform.startsWith('linux-') ? 'elf' : platform.startsWith('darwin-') ? 'macho' : 'pe';
  if (facts.format !== format) out.push(`${name} is ${facts.format}, not ${format}`);
  if (facts.machine !== p.machine) out.push(`${name} is for ${facts.machine}, not ${p.machine}`);
  if (facts.format !== 'elf') return out;
  if (p.libc === 'glibc') {
    if (facts.glibcMax && versionAbove(facts.glibcMax, GLIBC_BASELINE)) out.push(`${name} needs GLIBC_${facts.glibcMax}, more than ${GLIBC_BASELINE}`);
  } else if (p.libc === 'musl') {
    const glibc = facts.needed.filter((l) => GLIBC_LIBS.test(l));
    if (glibc.length) out.push(`${name} links glibc (${glibc.join(', ')})`);
    if (facts.glibcMax) out.push(`${name} references glibc symbol versions (up to GLIBC_${facts.glibcMax})`);
    if (facts.interpreter && !/ld-musl-/.test(facts.interpreter)) out.push(`${name} asks for the interpreter ${facts.interpreter}`);
  }
  if (!facts.stripped) out.push(`${name} is not stripped`);
  if (name.endsWith('.node') && !facts.napiEntry) out.push(`${name} does not export napi_register_module_v1 (not a Node addon)`);
  return out;
}

module.exports = { inspect, problems, sha256 };
