'use strict';
// `timeoutMs` and `signal` on a call: taken off the arguments (JSON cannot carry an AbortSignal) and tied
// to a call the core opens (`openCall`), which the core bounds by the deadline and aborts when the signal
// fires (`abortCall`). The rules — the range of `timeoutMs`, what the deadline covers, the ABORTED and
// TIMEOUT errors — are the core's (call_bounds.rs); this file only carries the values across.
const { invalidOption } = require('./error-codes.js');

function isAbortSignal(s) {
  return s !== null && typeof s === 'object' && typeof s.aborted === 'boolean' && typeof s.addEventListener === 'function';
}

/**
 * `{ bounds: { timeoutMs, signal } | null, rest }`: the bounds named in one of `sources` (a call's
 * request init or options) and each source without them. Naming them in two places is INVALID_OPTIONS.
 */
function takeBounds(...sources) {
  let bounds = null;
  const rest = sources.map((src) => {
    if (src === null || typeof src !== 'object' || Array.isArray(src)) return src;
    if (!Object.hasOwn(src, 'signal') && !Object.hasOwn(src, 'timeoutMs')) return src;
    if (bounds) throw invalidOption('signal', 'give timeoutMs and signal in one place (the options), not two');
    const { signal, timeoutMs, ...others } = src;
    bounds = { signal, timeoutMs };
    return others;
  });
  if (bounds) check(bounds);
  return { bounds, rest };
}

function check({ signal, timeoutMs }) {
  if (signal !== undefined && signal !== null && !isAbortSignal(signal)) {
    throw invalidOption('signal', 'must be an AbortSignal (e.g. AbortSignal.timeout(ms) or an AbortController’s signal)');
  }
  if (timeoutMs !== undefined && timeoutMs !== null && typeof timeoutMs !== 'number') {
    throw invalidOption('timeoutMs', 'must be a number of milliseconds');
  }
}

/**
 * Runs `start(callId)` (a native call taking an optional call id) within `bounds`; without bounds it is
 * `start(undefined)`. An already-aborted signal still goes to the core, which rejects at once with its
 * ABORTED error and sends nothing; the rejection's `cause` is the signal's reason.
 */
async function withBounds(native, bounds, start) {
  const call = openBounds(native, bounds);
  try {
    return await start(call.id);
  } catch (err) {
    throw call.annotate(err);
  } finally {
    call.close();
  }
}

/** An open call for `bounds` (none: `id` undefined) that stays open until `close()`: for a listing's pages. */
function openBounds(native, bounds) {
  if (!bounds || (bounds.signal == null && bounds.timeoutMs == null)) {
    return { id: undefined, close() {}, annotate: (e) => e };
  }
  const { signal } = bounds;
  const id = native.openCall(bounds.timeoutMs ?? null);
  const onAbort = () => native.abortCall(id);
  if (signal) {
    if (signal.aborted) native.abortCall(id);
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  let closed = false;
  return {
    id,
    close() {
      if (closed) return;
      closed = true;
      if (signal) signal.removeEventListener('abort', onAbort);
      native.closeCall(id);
    },
    annotate(err) {
      if (err && err.code === 'ABORTED' && signal && err.cause === undefined) err.cause = signal.reason;
      return err;
    },
  };
}

module.exports = { takeBounds, withBounds, openBounds };
