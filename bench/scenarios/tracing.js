'use strict';
// The cost of OpenTelemetry tracing (issue 28), three ways in one run, every contender interleaved in every run so
// machine noise hits them alike:
// (a) request() of GET /api/v2/organizations/me at c=64 against the emulator answering at once: tracing off (no
//     `openTelemetry` option: nothing of OpenTelemetry loaded), `openTelemetry: true` with no SDK registered (the API's
//     no-op tracer), traced with the real SDK (a BasicTracerProvider, a BatchSpanProcessor and an InMemorySpanExporter,
//     emptied after every run), and traced with an exporter that drops the spans. The client is CPU-bound here: Node,
//     the addon's threads and the emulator share the machine, so CPU per call is throughput.
// (b) the same with the server answering in LATENCY_MS (an emulator latency fault on the path; Genesys's API answers
//     in tens of ms), where the client is not CPU-bound: throughput, and the CPU each call costs.
// (c) the yardstick: what OpenTelemetry's own HTTP instrumentation (@opentelemetry/instrumentation-http, the spans a
//     Node service gets today for its outgoing node:http calls) adds to the plain-Node floor (node:http, static
//     token, as in calls.js), traced the same way (same provider, in-memory exporter) vs not.
// CPU per call: process.cpuUsage() around the loop (every thread of this process: Node's, the addon's, libuv's), and
// Node's own thread alone from /proc/self/task/<pid>/schedstat (its time on a CPU, ns).
const fs = require('node:fs');
const { TenantOrchestrator } = require('../../lib/index.js');
const { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } = require('@opentelemetry/sdk-trace-base');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { startEmulator } = require('../lib/emulator.js');
const { unlimitedTenant, floorCaller } = require('../lib/floor.js');
const { median, cell, latency, throughput, yes } = require('../lib/measure.js');

const PATH = '/api/v2/organizations/me';
const CONCURRENCY = 64;
const LATENCY_MS = 20;

// An exporter that drops what it is given: the cost of making the spans, without that of keeping them.
class DiscardingExporter {
  export(spans, done) {
    done({ code: 0 });
  }
  shutdown() {
    return Promise.resolve();
  }
  forceFlush() {
    return Promise.resolve();
  }
}

/** Node's main thread's time on a CPU so far, µs (null where /proc does not say). */
function mainThreadUs() {
  try {
    return Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return null;
  }
}

/** Throughput of `call` at c=64 for `ms`, and the CPU µs each call cost: the whole process's and Node's thread's. */
async function measured(call, ms) {
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadUs();
  const rps = await throughput(call, ms, CONCURRENCY);
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThreadUs();
  const calls = (rps * ms) / 1000;
  return { rps, procUs: (cpu.user + cpu.system) / calls, mainUs: main0 === null ? NaN : (main1 - main0) / calls };
}


module.exports = async function tracing({ runs, latencyCalls, throughputMs }) {
  const emu = await startEmulator();
  const { token } = await unlimitedTenant(emu, 'acme-corp');
  const base = { configEndpoint: emu.url, configServiceToken: emu.configServiceToken, gateway: emu.gateway, rateLimitPerMinute: 1_000_000 };
  const exporter = new InMemorySpanExporter();
  const batch = { maxQueueSize: 100_000, maxExportBatchSize: 1000, scheduledDelayMillis: 200 };
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, batch)] });
  const dropping = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new DiscardingExporter(), batch)] });
  const off = new TenantOrchestrator(base);
  const noop = new TenantOrchestrator({ ...base, openTelemetry: true });
  const on = new TenantOrchestrator({ ...base, openTelemetry: { tracerProvider: provider } });
  const dropped = new TenantOrchestrator({ ...base, openTelemetry: { tracerProvider: dropping } });
  const all = [off, noop, on, dropped];
  for (const o of all) await o.initialize();
  // OpenTelemetry's HTTP instrumentation, enabled only around its contender (it patches node:http for the process).
  const instrumentation = new HttpInstrumentation({ enabled: false });
  instrumentation.setTracerProvider(provider);
  const floor = floorCaller(emu.port, token, { path: PATH, concurrency: CONCURRENCY });
  const floorTraced = async () => {
    instrumentation.enable();
    require('node:http'); // the first enable() patches the module when it is next required
  };

  const req = (o) => () => o.request('acme-corp', { path: PATH });
  // [name, call, set-up, tear-down, at latency too]
  const contenders = [
    ['request(), tracing off (no openTelemetry option)', req(off), null, null, true],
    ['request(), openTelemetry: true, no SDK registered (no-op tracer)', req(noop), null, null, false],
    ['request(), traced: sdk-trace-base, BatchSpanProcessor, in-memory exporter', req(on), null, null, true],
    ['request(), traced, the spans dropped at export (their making only)', req(dropped), null, null, false],
    ['floor: node:http, static token, untraced', floor.call, null, null, true],
    ['floor traced by @opentelemetry/instrumentation-http (same SDK set-up, in-memory exporter)', floor.call, floorTraced, () => instrumentation.disable(), true],
  ];
  const fast = contenders.map(([name]) => ({ name, p50: [], rps: [], procUs: [], mainUs: [] }));
  const slow = contenders.map(([name]) => ({ name, rps: [], procUs: [], mainUs: [] }));
  let spans = 0;
  let floorSpans = 0;
  const collect = async () => {
    await provider.forceFlush();
    const got = exporter.getFinishedSpans();
    spans += got.length;
    floorSpans += got.filter((s) => s.instrumentationScope.name.includes('instrumentation-http')).length;
    exporter.reset();
  };
  for (let run = 0; run < runs; run++) {
    for (const [i, [, call, setUp, tearDown]] of contenders.entries()) {
      await setUp?.();
      fast[i].p50.push((await latency(call, latencyCalls)).p50);
      const m = await measured(call, throughputMs);
      await tearDown?.();
      fast[i].rps.push(m.rps);
      fast[i].procUs.push(m.procUs);
      fast[i].mainUs.push(m.mainUs);
      await collect();
    }
    const fault = await emu.control('POST', 'faults', { path: PATH, status: 0, latencyMs: LATENCY_MS });
    for (const [i, [, call, setUp, tearDown, atLatency]] of contenders.entries()) {
      if (!atLatency) continue;
      await setUp?.();
      for (let k = 0; k < CONCURRENCY; k++) await call(); // warm: every connection open, the JIT warm
      const m = await measured(call, throughputMs);
      await tearDown?.();
      slow[i].rps.push(m.rps);
      slow[i].procUs.push(m.procUs);
      slow[i].mainUs.push(m.mainUs);
      await collect();
    }
    await emu.control('DELETE', `faults/${fault.id}`);
    process.stderr.write(`  tracing: run ${run + 1}/${runs}\n`);
  }
  for (const o of all) await o.close();
  floor.close();
  await provider.shutdown();
  await dropping.shutdown();
  await emu.stop();

  const us = (x) => x.toFixed(1);
  const ratioTo = (rows, i, j) => median(rows[i].rps) / median(rows[j].rps);
  const [OFF, , ON, , FLOOR, FLOOR_TRACED] = [0, 1, 2, 3, 4, 5];
  const fastRows = fast.map((r, i) => {
    const ref = i >= FLOOR ? FLOOR : OFF;
    return `| ${r.name} | ${cell(r.p50, (x) => x.toFixed(3))} ms | ${cell(r.rps, (x) => String(Math.round(x)))} | ${ratioTo(fast, i, ref).toFixed(2)} | ${cell(r.mainUs, us)} | ${cell(r.procUs, us)} |`;
  });
  const slowRows = slow
    .map((r, i) => [r, i])
    .filter(([r]) => r.rps.length)
    .map(([r, i]) => {
      const ref = i >= FLOOR ? FLOOR : OFF;
      return `| ${r.name} | ${cell(r.rps, (x) => String(Math.round(x)))} | ${ratioTo(slow, i, ref).toFixed(3)} | ${cell(r.mainUs, us)} | ${cell(r.procUs, us)} |`;
    });
  // Traced ÷ untraced within each run (the two measured seconds apart), the median over runs: steadier than the
  // ratio of medians when the machine's load moves between runs.
  const paired = (rows, i, ref) => median(rows[i].rps.map((x, k) => x / rows[ref].rps[k]));
  const fastRatio = ratioTo(fast, ON, OFF);
  const slowRatio = ratioTo(slow, ON, OFF);
  const added = (rows, i, ref, k) => median(rows[i][k]) - median(rows[ref][k]);
  const ours = { fast: added(fast, ON, OFF, 'mainUs'), slow: added(slow, ON, OFF, 'mainUs') };
  const theirs = { fast: added(fast, FLOOR_TRACED, FLOOR, 'mainUs'), slow: added(slow, FLOOR_TRACED, FLOOR, 'mainUs') };
  const oursProc = { fast: added(fast, ON, OFF, 'procUs'), slow: added(slow, ON, OFF, 'procUs') };
  const verdicts = [
    [`request() traced (real SDK): throughput at c=${CONCURRENCY} within 5 % of tracing off, server answering in ${LATENCY_MS} ms`, slowRatio >= 0.95],
    [`request() traced (real SDK): throughput at c=${CONCURRENCY} within 5 % of tracing off, server answering at once (CPU-bound, 2 cores shared with the emulator)`, fastRatio >= 0.95],
    [`request() tracing adds no more CPU of Node's thread per call than @opentelemetry/instrumentation-http adds to a node:http call`, ours.fast <= theirs.fast && ours.slow <= theirs.slow],
  ];
  const markdown = `## OpenTelemetry tracing: its cost

\`GET ${PATH}\`, ${CONCURRENCY} concurrent loops for ${throughputMs} ms (after ${latencyCalls} sequential calls for p50), ${runs} runs,
medians (min–max), every contender interleaved in every run. \`request()\` on four orchestrators of one emulator: tracing
off, tracing asked for with no SDK registered, traced with the real SDK (\`sdk-trace-base\`, \`BatchSpanProcessor\`, an
in-memory exporter that keeps every span), and traced with an exporter that drops the spans; one span a call (a cached
token, one attempt). Beside them the yardstick: the plain-Node floor (\`node:http\`, a static token) untraced, and traced
by OpenTelemetry's own \`@opentelemetry/instrumentation-http\` on the same SDK set-up — the span a Node service already
pays for each outgoing call it makes with \`http\`. ${spans} spans exported in all (${floorSpans} of them the
instrumentation's). CPU per call: \`process.cpuUsage()\` around the loop (every thread of the process: for \`request()\`
the addon's HTTP threads too) and Node's thread alone (\`/proc/self/task/<pid>/schedstat\`).

**(a) The server answers at once** (the emulator on the same 2 cores: CPU-bound, every µs of CPU is throughput):

| contender | p50 latency | requests/s at c=${CONCURRENCY} | ÷ untraced | Node's thread, µs/call | process, µs/call |
|---|---|---|---|---|---|
${fastRows.join('\n')}

**(b) The server answers in ${LATENCY_MS} ms** (an emulator latency fault on the path; Genesys's API answers in tens of ms):
the client waits, it is not CPU-bound.

| contender | requests/s at c=${CONCURRENCY} | ÷ untraced | Node's thread, µs/call | process, µs/call |
|---|---|---|---|---|
${slowRows.join('\n')}

**(c) Against the yardstick.** Tracing adds to Node's thread ${us(ours.fast)} µs a call at once and ${us(ours.slow)} µs at
${LATENCY_MS} ms (the whole process: ${us(oursProc.fast)} / ${us(oursProc.slow)} µs); OpenTelemetry's HTTP instrumentation adds
${us(theirs.fast)} / ${us(theirs.slow)} µs to a \`node:http\` call. Throughput traced ÷ untraced: \`request()\` ${fastRatio.toFixed(2)} at once,
${slowRatio.toFixed(3)} at ${LATENCY_MS} ms; the instrumented floor ${ratioTo(fast, FLOOR_TRACED, FLOOR).toFixed(2)} / ${ratioTo(slow, FLOOR_TRACED, FLOOR).toFixed(3)}. The same ratios taken
within each run (traced and untraced measured seconds apart), medians over the runs: \`request()\` ${paired(fast, ON, OFF).toFixed(2)} /
${paired(slow, ON, OFF).toFixed(3)}, the instrumented floor ${paired(fast, FLOOR_TRACED, FLOOR).toFixed(2)} / ${paired(slow, FLOOR_TRACED, FLOOR).toFixed(3)}.
`;
  return { markdown, verdicts };
};
