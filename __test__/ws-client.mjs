// A minimal WebSocket client for the tests (RFC 6455, ws:// only): the handshake through node:http's
// 'upgrade', text frames in and out, ping answered, close frames reported. Why not the alternatives:
// Node 20 has no global WebSocket without --experimental-websocket (a flag every runner of these
// files would have to pass), and `ws` is not a dependency of this package. This file needs neither.
import http from 'node:http';
import crypto from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A frame from the client (always masked). */
function frame(opcode, payload) {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : Buffer.alloc(4);
  if (len >= 126) {
    if (len > 0xffff) throw new Error('ws-client: frames over 64 KiB are not supported');
    head[0] = 0x80 | opcode;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  }
  const mask = crypto.randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i % 4];
  return Buffer.concat([head, mask, body]);
}

/**
 * Connects to `url` (ws://host:port/path). Resolves to `{ next(timeoutMs?), send(text), close(), destroy() }`;
 * `next()` resolves to `{ type: 'text', data }`, `{ type: 'close', code, reason }` or `{ type: 'end' }`
 * (the connection ended without a close frame), and rejects after `timeoutMs` (default 10 s).
 */
export function connect(url, { timeoutMs = 10_000 } = {}) {
  const u = new URL(url);
  if (u.protocol !== 'ws:') return Promise.reject(new Error(`ws-client: only ws:// URLs (${u.protocol})`));
  const key = crypto.randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13' },
      timeout: timeoutMs,
    });
    req.on('timeout', () => req.destroy(new Error('ws-client: handshake timed out')));
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      reject(Object.assign(new Error(`ws-client: handshake answered ${res.statusCode}`), { status: res.statusCode }));
    });
    req.on('upgrade', (res, socket, head) => {
      const expected = crypto.createHash('sha1').update(key + GUID).digest('base64');
      if (res.headers['sec-websocket-accept'] !== expected) {
        socket.destroy();
        reject(new Error('ws-client: wrong Sec-WebSocket-Accept'));
        return;
      }
      resolve(session(socket, head));
    });
    req.end();
  });
}

function session(socket, head) {
  let buf = head ?? Buffer.alloc(0);
  let fragments = [];
  const queue = [];
  const waiters = [];
  let ended = false;
  const push = (m) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  };
  const parse = () => {
    for (;;) {
      if (buf.length < 2) return;
      const fin = (buf[0] & 0x80) !== 0;
      const opcode = buf[0] & 0x0f;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      if (buf.length < off + len) return;
      const payload = buf.subarray(off, off + len);
      buf = buf.subarray(off + len);
      if (opcode === 0x9) socket.write(frame(0xa, payload));
      else if (opcode === 0x8) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        push({ type: 'close', code, reason: payload.subarray(2).toString('utf8') });
      } else if (opcode === 0x1 || opcode === 0x0) {
        fragments.push(Buffer.from(payload));
        if (fin) {
          push({ type: 'text', data: Buffer.concat(fragments).toString('utf8') });
          fragments = [];
        }
      }
    }
  };
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    parse();
  });
  const end = () => {
    if (ended) return;
    ended = true;
    push({ type: 'end' });
  };
  socket.on('end', end);
  socket.on('close', end);
  socket.on('error', end);
  parse();
  return {
    next(timeoutMs = 10_000) {
      if (queue.length) return Promise.resolve(queue.shift());
      if (ended) return Promise.resolve({ type: 'end' });
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(done);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`ws-client: no frame within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = (m) => {
          clearTimeout(timer);
          resolve(m);
        };
        waiters.push(done);
      });
    },
    send(text) {
      socket.write(frame(0x1, Buffer.from(String(text), 'utf8')));
    },
    /** Sends a close frame and ends the connection. */
    close() {
      if (!socket.destroyed) socket.end(frame(0x8, Buffer.from([0x03, 0xe8])));
    },
    destroy() {
      socket.destroy();
    },
  };
}
