// OpenTelemetry inside Jest's module registry: the package loads @opentelemetry/api from the same registry as
// the test (one API, so the test's provider and context are the ones the package sees), a call is one span
// under the test's active span, and nothing is left open (run with --detectOpenHandles).
const api = require('@opentelemetry/api');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { TenantOrchestrator } = require('../../lib/index.js');
const { startEmulator } = require('./emulator.js');

let emu;
let o;
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(async () => {
  api.context.setGlobalContextManager(contextManager.enable());
  emu = await startEmulator();
  o = new TenantOrchestrator({
    configEndpoint: emu.url,
    configServiceToken: emu.configServiceToken,
    gateway: emu.gateway,
    openTelemetry: { tracerProvider: provider },
  });
  await o.initialize();
});

afterAll(async () => {
  await o.close();
  await emu.stop();
  await provider.shutdown();
  api.context.disable();
});

test('a call is one span under the test’s span, with the template and no id', async () => {
  const tracer = provider.getTracer('jest');
  const users = await o.request('acme-corp', { path: '/api/v2/users', query: { pageSize: 1 } });
  const id = users.body.entities[0].id;
  exporter.reset();
  const outer = await tracer.startActiveSpan('outer', async (span) => {
    await o.request('acme-corp', { path: `/api/v2/users/${id}` });
    span.end();
    return span;
  });
  const spans = exporter.getFinishedSpans();
  const call = spans.find((s) => s.parentSpanContext?.spanId === outer.spanContext().spanId);
  expect(call.name).toBe('GET /api/v2/users/{userId}');
  expect(call.attributes).toMatchObject({ 'genesys.tenant.id': 'acme-corp', 'http.response.status_code': 200, 'url.template': '/api/v2/users/{userId}' });
  expect(JSON.stringify(spans.map((s) => [s.name, s.attributes]))).not.toContain(id);
});
