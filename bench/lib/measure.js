'use strict';
// Measuring and summarising: percentiles, medians of runs, bounded loops, table cells.
const { performance } = require('node:perf_hooks');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** `median (min–max)` of `xs`, each formatted by `f`. */
const cell = (xs, f = (x) => x.toFixed(2)) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

/** p50 and p99 of `n` sequential calls (after 50 warm-up calls), in ms. */
async function latency(call, n) {
  for (let i = 0; i < 50; i++) await call();
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call();
    samples.push(performance.now() - t0);
  }
  return { p50: pct(samples, 50), p99: pct(samples, 99) };
}

/** Calls per second of `concurrency` loops for `ms`. */
async function throughput(call, ms, concurrency) {
  const end = performance.now() + ms;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await call();
        n++;
      }
    }),
  );
  return (n * 1000) / ms;
}

/** Milliseconds `fn` takes. */
async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Sum of a counter over every client of the emulator. */
async function totalCounter(emu, key) {
  const c = await emu.control('GET', 'counters');
  return Object.values(c.clients).reduce((n, x) => n + (typeof x[key] === 'number' ? x[key] : 0), 0);
}

/** The emulator's count of answers with `status`, summed over every client. */
async function totalStatus(emu, status) {
  const c = await emu.control('GET', 'counters');
  return Object.values(c.clients).reduce((n, x) => n + ((x.apiCalls && x.apiCalls[String(status)]) || 0), 0);
}

const yes = (ok) => (ok ? 'yes' : '**no**');

module.exports = { median, pct, cell, latency, throughput, timed, sleep, totalCounter, totalStatus, yes };
