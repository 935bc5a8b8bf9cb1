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

/**
 * A Redis Cluster of `masters` masters, each with `replicas` replicas, on 127.0.0.1:
 * { url, ports, scan(pattern), masterOf(key), kill(port), waitOk(ms), stop() }.
 */
export async function startRedisCluster({ masters = 3, replicas = 0 } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gt-jscluster-'));
  const procs = [];
  const ports = [];
  for (let i = 0; i < masters * (1 + replicas); i++) {
    const port = await clusterPort();
    ports.push(port);
    procs.push(
      spawn(
        'redis-server',
        ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir, '--cluster-enabled', 'yes',
          '--cluster-config-file', `nodes-${i}.conf`, '--cluster-node-timeout', '1000',
          '--cluster-replica-validity-factor', '0', '--dbfilename', `dump-${i}.rdb`],
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
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes'], {
      encoding: 'utf8',
    });
    if (created.status !== 0) throw new Error(`cluster create: ${created.stdout}${created.stderr}`);
    for (let i = 0; !ports.every((p) => redisCli(p, ['cluster', 'info']).stdout.includes('cluster_state:ok')); i++) {
      if (i > 200) throw new Error('cluster never reached cluster_state:ok');
      await sleep(50);
    }
    // A replica that never finished its first sync cannot take over: wait for every link.
    const unsynced = () =>
      ports.some((p) => {
        const r = redisCli(p, ['info', 'replication']).stdout;
        return r.includes('role:slave') && !r.includes('master_link_status:up');
      });
    for (let i = 0; unsynced(); i++) {
      if (i > 200) throw new Error('replicas never synced');
      await sleep(50);
    }
  } catch (e) {
    stop();
    throw e;
  }
  const live = new Set(ports);
  const seeds = ports.slice(1).map((p) => `addr=127.0.0.1:${p}`).join('&');
  return {
    url: `redis+cluster://127.0.0.1:${ports[0]}?${seeds}`,
    ports,
    /** Keys matching `pattern` on every master, and the node each lives on. */
    scan(pattern) {
      return ports.flatMap((port) => redisCli(port, ['--scan', '--pattern', pattern]).stdout.split('\n').filter(Boolean).map((key) => ({ key, port })));
    },
    /** The port of the master serving `key`'s slot. */
    masterOf(key) {
      const any = [...live][0];
      const slot = Number(redisCli(any, ['cluster', 'keyslot', key]).stdout.trim());
      for (const line of redisCli(any, ['cluster', 'nodes']).stdout.split('\n')) {
        const f = line.split(' ');
        if (f.length < 9 || !f[2].includes('master') || f[2].includes('fail')) continue;
        for (const range of f.slice(8)) {
          const [a, b = a] = range.split('-').map(Number);
          if (slot >= a && slot <= b) return Number(f[1].split(/[:@]/)[1]);
        }
      }
      throw new Error(`no master for slot ${slot}`);
    },
    /** Kills the node on `port` (SIGKILL: a crash). */
    kill(port) {
      procs[ports.indexOf(port)].kill('SIGKILL');
      live.delete(port);
    },
    /** Resolves when every live node says cluster_state:ok. */
    async waitOk(ms = 15000) {
      const t0 = Date.now();
      while (![...live].every((p) => redisCli(p, ['cluster', 'info']).stdout.includes('cluster_state:ok'))) {
        if (Date.now() - t0 > ms) throw new Error(`cluster not ok after ${ms} ms`);
        await sleep(100);
      }
    },
    stop,
  };
}
