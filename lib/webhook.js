'use strict';
// The rotation webhook as a Node request handler: reads the raw body (bounded), hands it with the
// signature header to the core, and sends the core's answer. Every decision — signature, timestamp,
// replay, body shape, size — is the core's (crates/core/src/webhook.rs); this only moves bytes.
const { header: SIGNATURE_HEADER, maxBody: MAX_BODY } = JSON.parse(require('./native.js').loadNative().webhookLimits());

// A body that has not arrived after this long is answered 400 (a slow sender must not hold a socket).
const BODY_TIMEOUT_MS = 10_000;
// After a refusal's answer is flushed and our side of the connection shut, how long what the sender
// still sends is read and dropped (a socket closed with unread input answers with a reset, which can
// destroy the answer before the sender reads it) before the socket is destroyed regardless.
const LINGER_MS = 1_000;

/**
 * Sends `body` as JSON with `status`. Anything but an acceptance closes the connection once the
 * answer is flushed: a refused, too-large or timed-out delivery must not keep its socket (on keep-alive
 * Node would otherwise go on reading what is left of a trickled or endless body).
 */
function send(req, res, status, body) {
  if (res.headersSent || res.writableEnded) return;
  const text = JSON.stringify(body);
  const refused = status >= 400;
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  // HTTP/2 forbids the header (and multiplexes: there the stream is closed, not the connection).
  if (refused && !(req.httpVersionMajor >= 2)) res.setHeader('connection', 'close');
  if (refused) res.once('finish', () => closeConnection(req));
  res.end(text);
}

/**
 * Closes `req`'s connection after its answer: shut our side, drain briefly, then destroy. Node's own
 * server, told `connection: close`, already ends the socket after the answer; this holds for a server
 * or framework that does not, and for a request left paused (a cut-off body).
 */
function closeConnection(req) {
  const socket = req.socket;
  if (req.httpVersionMajor >= 2 || !socket || typeof socket.end !== 'function') {
    req.destroy();
    return;
  }
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref?.();
  socket.once('close', () => clearTimeout(timer));
  req.resume(); // read and drop the rest of the body (a paused request would leave it unread)
  socket.end();
}

/**
 * The raw body: `req.body` when a framework already read it raw (a Buffer or a string: Express's
 * `express.raw()`, Fastify's `parseAs: 'buffer'`), else read from the stream — at most MAX_BODY + 1
 * bytes, so an endless body is cut off and the core answers 413.
 */
function rawBody(req) {
  if (Buffer.isBuffer(req.body)) return Promise.resolve(req.body);
  if (typeof req.body === 'string') return Promise.resolve(Buffer.from(req.body));
  if (req.body !== undefined && req.body !== null && (req.complete || req.readableEnded)) {
    // A body parser read and parsed it (express.json()): the bytes the signature covers are gone.
    return Promise.reject(Object.assign(new Error('the webhook needs the raw body: mount it with express.raw({ type: "*/*" }) (or no body parser)'), { status: 400 }));
  }
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const timer = setTimeout(() => done(Object.assign(new Error('the body did not arrive in time'), { status: 400 })), BODY_TIMEOUT_MS);
    function done(err, body) {
      clearTimeout(timer);
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      if (err) reject(err);
      else resolve(body);
    }
    function onData(chunk) {
      chunks.push(chunk);
      size += chunk.length;
      // One byte over the limit is enough for the core to answer 413; read no more.
      if (size > MAX_BODY) {
        req.pause();
        done(null, Buffer.concat(chunks, size).subarray(0, MAX_BODY + 1));
      }
    }
    const onEnd = () => done(null, Buffer.concat(chunks, size));
    const onError = (e) => done(Object.assign(e, { status: 400 }));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** A `(req, res)` handler for `native` and the options text `wire` (already checked). */
function rotationWebhookHandler(native, wire) {
  return function rotationWebhook(req, res) {
    const signature = req.headers?.[SIGNATURE_HEADER];
    return rawBody(req)
      .then((body) => native.rotationWebhook(wire, typeof signature === 'string' ? signature : null, body))
      .then((text) => {
        const { status, body } = JSON.parse(text);
        send(req, res, status, body);
      })
      .catch((e) => send(req, res, e.status === 400 ? 400 : 500, { accepted: false, error: e.status === 400 ? 'bad-request' : 'internal', message: e.message }));
  };
}

module.exports = { rotationWebhookHandler, SIGNATURE_HEADER, MAX_BODY };
