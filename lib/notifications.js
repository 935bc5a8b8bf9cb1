'use strict';
// Real-time events over the Notifications API (docs/notifications.md): `o.subscribe()` (a callback and
// a handle) and `o.events()` (an async iterator). The channels, the moves, the dedupe and the bounded
// queue live in the core (crates/core/src/notifications/); this file pulls batches of events as JSON
// text — one crossing per batch — and hands them out one by one.
const { invalidOption, packageError } = require('./error-codes.js');

function checkTopics(topics, name = 'topics') {
  if (!Array.isArray(topics) || !topics.every((t) => typeof t === 'string')) {
    throw invalidOption(name, 'must be an array of topic names (strings)');
  }
  return topics;
}

function checkSignal(options) {
  if (options == null) return undefined;
  if (typeof options !== 'object') throw invalidOption('options', 'must be an object ({ signal })');
  const { signal } = options;
  if (signal != null && (typeof signal !== 'object' || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function')) {
    throw invalidOption('signal', 'must be an AbortSignal');
  }
  return signal ?? undefined;
}

function aborted(signal) {
  return packageError('ABORTED', 'the subscription was aborted before it started', { cause: signal.reason });
}

/** The events of one batch, and how many the queue dropped before them. */
function parseBatch(text) {
  const batch = JSON.parse(text);
  return { events: batch.events, dropped: batch.dropped };
}

/**
 * A subscription handle: `add(topics)`, `remove(topics)` (resolve once the server has the change),
 * `close()` (resolves once its topics are released; idempotent); `dropped` counts events a slow
 * `onEvent` lost to the full queue.
 */
class NotificationSubscription {
  #native;
  #closing = null;
  #detach;
  dropped = 0;

  constructor(native, tenantId, detach) {
    this.#native = native;
    this.#detach = detach;
    this.tenantId = tenantId;
  }

  add(topics) {
    return this.#native.add(checkTopics(topics));
  }

  remove(topics) {
    return this.#native.remove(checkTopics(topics));
  }

  close() {
    if (this.#closing === null) {
      this.#detach();
      this.#closing = this.#native.close();
    }
    return this.#closing;
  }
}

/** `o.subscribe(tenantId, topics, onEvent, { signal })`. */
async function subscribe(nativeOrchestrator, tenantId, topics, onEvent, options) {
  checkTopics(topics);
  if (typeof onEvent !== 'function') throw invalidOption('onEvent', 'must be a function');
  const signal = checkSignal(options);
  if (signal?.aborted) throw aborted(signal);
  const native = await nativeOrchestrator.subscribeTopics(tenantId, topics);
  let onAbort = null;
  const detach = () => {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    onAbort = null;
  };
  const handle = new NotificationSubscription(native, tenantId, detach);
  if (signal) {
    if (signal.aborted) {
      await handle.close();
      throw aborted(signal);
    }
    onAbort = () => handle.close();
    signal.addEventListener('abort', onAbort, { once: true });
  }
  // The pump: one batch at a time, so the queue (bounded, in the core) is where a slow onEvent waits.
  (async () => {
    for (;;) {
      const text = await native.nextBatch();
      if (text === null) break;
      const { events, dropped } = parseBatch(text);
      handle.dropped += dropped;
      for (const event of events) {
        try {
          onEvent(event);
        } catch (e) {
          // A throwing listener must not stop the delivery of the next events.
          process.nextTick(() => {
            throw e;
          });
        }
      }
    }
    detach();
  })();
  return handle;
}

/** `o.events(tenantId, topics, { signal })`: an async iterator; `return()` (a `break`) closes it. */
function events(nativeOrchestrator, tenantId, topics, options) {
  checkTopics(topics);
  const signal = checkSignal(options);
  let native = null;
  let buffer = [];
  let at = 0;
  let done = false;
  let closing = null;
  let onAbort = null;
  const close = () => {
    done = true;
    buffer = [];
    if (onAbort) signal.removeEventListener('abort', onAbort);
    onAbort = null;
    if (closing === null) closing = started.then((n) => n && n.close(), () => undefined);
    return closing;
  };
  // Subscribed at once, so what is published after this call is seen; a failure rejects the first next().
  const started = signal?.aborted
    ? Promise.reject(aborted(signal))
    : nativeOrchestrator.subscribeTopics(tenantId, topics).then((n) => {
        native = n;
        if (done) n.close();
        return n;
      });
  started.catch(() => {});
  if (signal && !signal.aborted) {
    onAbort = () => close();
    signal.addEventListener('abort', onAbort, { once: true });
  }
  const iterator = {
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async next() {
      await started;
      while (at >= buffer.length) {
        if (done) return { done: true, value: undefined };
        const text = await native.nextBatch();
        if (text === null) {
          close();
          return { done: true, value: undefined };
        }
        const batch = parseBatch(text);
        iterator.dropped += batch.dropped;
        buffer = batch.events;
        at = 0;
      }
      return { done: false, value: buffer[at++] };
    },
    async return() {
      await close();
      return { done: true, value: undefined };
    },
    /** Events lost to the full queue so far. */
    dropped: 0,
  };
  return iterator;
}

module.exports = { subscribe, events, NotificationSubscription };
