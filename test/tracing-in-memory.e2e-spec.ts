import { rmSync } from 'node:fs';
import { NatsBus, TracedBus, type Bus } from '#bus';
import { childProcessBaseEnvironment, loadConfig, readRuntimeEnvironment, type GatehouseConfig } from '#config';
import { randomId } from '#crypto';
import { createLogger, noMetrics, startTracing, type Tracing } from '#observability';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startEdge, type RunningEdge } from '../apps/edge/src/main.js';
import { startRunner, type RunningRunner } from '../apps/runner/src/main.js';
import { callMeta, clientTrace, initialize, TRACEPARENT, writeConfig } from './support/traced-server.js';

/** One service's tracing, exporting to memory, and its own connection to the real NATS carrying it. */
async function traced(serviceName: string): Promise<{ tracing: Tracing; exporter: InMemorySpanExporter; bus: Bus }> {
  const exporter = new InMemorySpanExporter();
  const tracing = await startTracing({ serviceName, processor: new SimpleSpanProcessor(exporter) });
  const nats = await NatsBus.connect({ servers: readRuntimeEnvironment().natsUrl, name: serviceName, onError: () => undefined });
  return { tracing, exporter, bus: new TracedBus(nats, tracing) };
}

function loaded(path: string): GatehouseConfig {
  const result = loadConfig(path);
  if (!result.ok) throw new Error(`config: ${JSON.stringify(result.problems)}`);
  return result.config;
}

/** The check: an in-memory exporter per service sees one trace, edge → runner → the backend's _meta. */
describe('tracing with in-memory exporters (edge and runner in this process, over NATS)', () => {
  const log = createLogger({ service: 'tracing-spec', level: 'silent' });
  let configDir: string;
  let edge: Awaited<ReturnType<typeof traced>>;
  let runner: Awaited<ReturnType<typeof traced>>;
  let runningEdge: RunningEdge;
  let runningRunner: RunningRunner;
  let url: string;

  beforeAll(async () => {
    const group = `tracingmem${Date.now().toString(36)}`;
    const written = writeConfig(group);
    configDir = written.dir;
    const config = loaded(written.path);
    [edge, runner] = await Promise.all([traced('gatehouse-edge'), traced('gatehouse-runner')]);
    const runnerId = randomId(9);
    runningRunner = await startRunner(runner.bus, {
      config,
      runnerId,
      groups: [group],
      childBaseEnv: childProcessBaseEnvironment(),
      log,
      metrics: noMetrics,
      tracing: runner.tracing,
    });
    runningEdge = await startEdge(
      edge.bus,
      { config, edgeId: randomId(9), log, metrics: noMetrics, tracing: edge.tracing },
      { host: '127.0.0.1', port: 0 },
    );
    url = `http://127.0.0.1:${runningEdge.address.port}/traced/mcp`;
  }, 30000);

  afterAll(async () => {
    await runningEdge?.close();
    await runningRunner?.close();
    for (const part of [edge, runner]) {
      await part?.bus.close();
      await part?.tracing.shutdown();
    }
    rmSync(configDir, { recursive: true, force: true });
  });

  it('sees one trace of a tools/call spanning the edge span, the runner span and the backend _meta', async () => {
    const sessionId = await initialize(url);
    const client = clientTrace();
    const meta = await callMeta(url, sessionId, undefined, { traceparent: client.traceparent });
    const inTrace = (spans: ReadableSpan[]) => spans.filter((s) => s.spanContext().traceId === client.traceId);
    const [edgeSpan, ...moreEdge] = inTrace(edge.exporter.getFinishedSpans());
    const [runnerSpan, ...moreRunner] = inTrace(runner.exporter.getFinishedSpans());
    expect([moreEdge, moreRunner]).toEqual([[], []]);
    expect(edgeSpan?.name).toBe('mcp tools/call');
    expect(edgeSpan?.parentSpanContext?.spanId).toBe(client.spanId);
    expect(runnerSpan?.name).toBe('runner tools/call');
    expect(runnerSpan?.parentSpanContext?.spanId).toBe(edgeSpan?.spanContext().spanId);
    const [, traceId, parentId] = TRACEPARENT.exec(String(meta?.traceparent)) ?? [];
    expect(traceId).toBe(client.traceId);
    expect(parentId).toBe(runnerSpan?.spanContext().spanId);
  }, 30000);
});
