// Real Redis servers for the shared-mode tests, started here on 127.0.0.1 with the installed
// redis-server and killed by stop(): one plain server, or a local Redis Cluster whose slots
// `redis-cli --cluster create` assigns.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export function redisCli(port, args) {
  return spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' });
}

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer().once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A free port p whose cluster-bus port p + 10000 is free too. */
async function clusterPort() {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 20000);
    if ((await portFree(p)) && (await portFree(p + 10000))) return p;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A Redis Cluster of `masters` masters on 127.0.0.1: { url, ports, scan(pattern), get(key), stop() }. */
export async function startRedisCluster({ masters = 3 } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gt-jscluster-'));
  const procs = [];
  const ports = [];
  for (let i = 0; i < masters; i++) {
    const port = await clusterPort();
    ports.push(port);
    procs.push(
      spawn(
        'redis-server',
        ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir, '--cluster-enabled', 'yes',
          '--cluster-config-file', `nodes-${i}.conf`, '--cluster-node-timeout', '1000'],
        { stdio: 'ignore' },
      ),
    );
  }
  const stop = () => {
    for (const p of procs) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      for (let i = 0; !redisCli(port, ['ping']).stdout.includes('PONG'); i++) {
        if (i > 100) throw new Error(`redis-server on ${port} did not start`);
        await sleep(50);
      }
    }
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
    });
    if (created.status !== 0) throw new Error(`cluster create: ${created.stdout}${created.stderr}`);
    for (let i = 0; !ports.every((p) => redisCli(p, ['cluster', 'info']).stdout.includes('cluster_state:ok')); i++) {
      if (i > 200) throw new Error('cluster never reached cluster_state:ok');
      await sleep(50);
    }
  } catch (e) {
    stop();
    throw e;
  }
  const seeds = ports.slice(1).map((p) => `addr=127.0.0.1:${p}`).join('&');
  return {
    url: `redis+cluster://127.0.0.1:${ports[0]}?${seeds}`,
    ports,
    /** Keys matching `pattern` on every master, and the node each lives on. */
    scan(pattern) {
      return ports.flatMap((port) => redisCli(port, ['--scan', '--pattern', pattern]).stdout.split('\n').filter(Boolean).map((key) => ({ key, port })));
    },
    stop,
  };
}
