'use strict';
// `timeoutMs` and `signal` on a call: taken off the arguments (JSON cannot carry an AbortSignal) and sent
// with the call itself as `{ id?, timeoutMs?, aborted? }` (one crossing); the signal's firing becomes
// `abortCall(id)`. The rules — the range of `timeoutMs`, what the deadline covers, the ABORTED and
// TIMEOUT errors, when a call is closed — are the core's (call_bounds.rs); this file only carries the
// values across.
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

// The numbers of abortable calls: unique among every orchestrator's open calls (the core refuses an id in use).
let lastId = 0;
function nextId() {
  lastId = lastId >= 0xfffffffe ? 1 : lastId + 1;
  return lastId;
}

/**
 * The bounds as they cross with the call — `{ id?, timeoutMs?, aborted? }`, or undefined — and the
 * signal's listener: `done()` removes it, `annotate(err)` gives an ABORTED rejection the signal's reason
 * as its `cause`. The core registers the call before the native method returns (an abort can only come
 * after) and closes it when the call ends; nothing here closes anything.
 */
function callSpec(native, bounds, trace = false) {
  if (!bounds || (bounds.signal == null && bounds.timeoutMs == null)) {
    return { spec: trace ? { trace: true } : undefined, done() {}, annotate: (e) => e };
  }
  const { signal } = bounds;
  const spec = bounds.timeoutMs == null ? {} : { timeoutMs: bounds.timeoutMs };
  // A traced call (lib/otel.js) asks the core for its record, which crosses with the result.
  if (trace) spec.trace = true;
  let onAbort = null;
  if (signal) {
    const id = nextId();
    spec.id = id;
    if (signal.aborted) spec.aborted = true;
    else {
      onAbort = () => native.abortCall(id);
      signal.addEventListener('abort', onAbort, { once: true });
    }
  }
  return {
    spec,
    done() {
      if (onAbort) signal.removeEventListener('abort', onAbort);
      onAbort = null;
    },
    annotate(err) {
      if (err && err.code === 'ABORTED' && signal && err.cause === undefined) err.cause = signal.reason;
      return err;
    },
  };
}

/** Runs `start(spec)` (a native call taking the bounds' spec) within `bounds`; `trace`: ask for the call's record. */
async function withBounds(native, bounds, start, trace = false) {
  const call = callSpec(native, bounds, trace);
  try {
    return await start(call.spec);
  } catch (err) {
    throw call.annotate(err);
  } finally {
    call.done();
  }
}

module.exports = { takeBounds, withBounds, callSpec };
