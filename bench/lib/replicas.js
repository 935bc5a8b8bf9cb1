'use strict';
// Replica processes for the shared-mode scenarios (the tests' shared-child fixture), and the Redis
// deployments they share: one Redis on 127.0.0.1:6379, or a 3-master Redis Cluster started here
// on 127.0.0.1 (the tests' own helper) and stopped by the scenario.
const { spawn } = require('node:child_process');
const path = require('node:path');

const CHILD = path.join(__dirname, '..', '..', '__test__', 'fixtures', 'shared-child.cjs');
const SINGLE_REDIS = 'redis://127.0.0.1:6379';

/** Runs one replica with `job`; resolves with what it printed. Killed after 60 s. */
function child(job) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CHILD], { env: { ...process.env, GENESYS_CHILD: JSON.stringify(job) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`replica exited with ${code}: ${out}`));
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

/** Runs `processes` replicas of `job`, all starting at the same moment after they initialized. */
async function replicas(processes, job) {
  const startAt = Date.now() + 1500;
  const results = await Promise.all(Array.from({ length: processes }, () => child({ ...job, startAt })));
  const failed = results.reduce((n, r) => n + r.failed, 0);
  return { results, failed, errors: results.flatMap((r) => r.errors) };
}

/** A 3-master Redis Cluster: { url, stop() }. */
async function startCluster() {
  const { startRedisCluster } = await import('../../__test__/redis-servers.mjs');
  return startRedisCluster({ masters: 3 });
}

module.exports = { SINGLE_REDIS, child, replicas, startCluster };
