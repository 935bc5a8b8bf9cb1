'use strict';
// The rotation webhook as a Node request handler: reads the raw body (bounded), hands it with the
// signature header to the core, and sends the core's answer. Every decision — signature, timestamp,
// replay, body shape, size — is the core's (crates/core/src/webhook.rs); this only moves bytes.
const { header: SIGNATURE_HEADER, maxBody: MAX_BODY } = JSON.parse(require('./native.js').loadNative().webhookLimits());

// A body that has not arrived after this long is answered 400 (a slow sender must not hold a socket).
const BODY_TIMEOUT_MS = 10_000;

function send(res, status, body) {
  if (res.headersSent || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
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
        send(res, status, body);
        // A cut-off body: close the connection rather than drain what is left of it.
        if (status === 413) res.once('finish', () => req.destroy());
      })
      .catch((e) => send(res, e.status === 400 ? 400 : 500, { accepted: false, error: e.status === 400 ? 'bad-request' : 'internal', message: e.message }));
  };
}

module.exports = { rotationWebhookHandler, SIGNATURE_HEADER, MAX_BODY };
