import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OtelTracing } from './otel-tracing.js';
import { noTracing, traceHeadersOf } from './tracing.port.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const CLIENT = { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` };

function traced() {
  const exporter = new InMemorySpanExporter();
  const tracing = new OtelTracing({ serviceName: 'gatehouse-test', processor: new SimpleSpanProcessor(exporter) });
  return { tracing, exporter };
}

describe('OtelTracing', () => {
  it("continues a client's traceparent, and names its span as the next hop's parent", () => {
    const { tracing, exporter } = traced();
    const span = tracing.start('mcp tools/call', { 'mcp.server': 'echo' }, { ...CLIENT, tracestate: 'vendor=1' });
    span.end('ok');
    const [exported] = exporter.getFinishedSpans();
    expect(exported?.spanContext().traceId).toBe(TRACE_ID);
    expect(exported?.parentSpanContext?.spanId).toBe(CLIENT_SPAN);
    expect(exported?.attributes).toMatchObject({ 'mcp.server': 'echo', 'gatehouse.outcome': 'ok' });
    expect(exported?.resource.attributes['service.name']).toBe('gatehouse-test');
    expect(span.context.traceparent).toBe(`00-${TRACE_ID}-${exported?.spanContext().spanId}-01`);
    expect(span.context.tracestate).toBe('vendor=1');
  });

  it.each([
    ['not W3C', 'hello'],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${CLIENT_SPAN}-01`],
    ['an all-zero span id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE_ID}-${CLIENT_SPAN}-01`],
    ['upper-case hex', `00-${TRACE_ID.toUpperCase()}-${CLIENT_SPAN}-01`],
    ['empty', ''],
  ])('starts a new trace when the client sends a traceparent that is %s', (_, traceparent) => {
    const { tracing, exporter } = traced();
    expect(() => tracing.start('mcp ping', {}, { traceparent }).end('ok')).not.toThrow();
    const [exported] = exporter.getFinishedSpans();
    expect(exported?.parentSpanContext).toBeUndefined();
    expect(exported?.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(exported?.spanContext().traceId).not.toBe(TRACE_ID);
  });

  it("prefers the trace it runs in (a bus message's) over a client's _meta, and tells it to outgoing messages", async () => {
    const { tracing, exporter } = traced();
    const edge = tracing.start('mcp tools/call', {}, CLIENT);
    const other = { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` };
    await tracing.within(edge.context, async () => {
      await Promise.resolve();
      expect(tracing.outgoing()).toEqual(edge.context);
      tracing.start('runner tools/call', {}, other).end('error');
    });
    expect(tracing.outgoing()).toBeUndefined();
    const [runner] = exporter.getFinishedSpans();
    expect(runner?.spanContext().traceId).toBe(TRACE_ID);
    expect(runner?.status.code).toBe(2);
  });

  it('tells the id of the trace it runs in, for log lines', () => {
    const { tracing } = traced();
    expect(tracing.traceId()).toBeUndefined();
    tracing.within(CLIENT, () => expect(tracing.traceId()).toBe(TRACE_ID));
    expect(noTracing.traceId()).toBeUndefined();
  });

  it('runs a message without a valid traceparent in no trace, whatever surrounds it', () => {
    const { tracing } = traced();
    tracing.within(CLIENT, () => {
      tracing.within({ traceparent: 'garbage' }, () => expect(tracing.outgoing()).toBeUndefined());
      tracing.within({}, () => expect(tracing.outgoing()).toBeUndefined());
    });
  });

  it('records a span once, however often it is ended', () => {
    const { tracing, exporter } = traced();
    const span = tracing.start('mcp ping', {});
    span.end('cancelled');
    span.end('ok');
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(exporter.getFinishedSpans()[0]?.attributes['gatehouse.outcome']).toBe('cancelled');
  });

  it('dates a span from when its request arrived', () => {
    const { tracing, exporter } = traced();
    const arrived = performance.now() - 250;
    tracing.start('mcp ping', {}, undefined, arrived).end('ok');
    const [exported] = exporter.getFinishedSpans();
    const [seconds = 0, nanos = 0] = exported?.duration ?? [];
    expect(seconds * 1000 + nanos / 1e6).toBeGreaterThanOrEqual(249);
  });
});

describe('noTracing', () => {
  it('makes nothing', () => {
    expect(noTracing.enabled).toBe(false);
    expect(noTracing.start('x', {}, CLIENT).context).toEqual({});
    expect(noTracing.within(CLIENT, () => noTracing.outgoing())).toBeUndefined();
  });
});

describe('traceHeadersOf', () => {
  it('takes traceparent and tracestate strings, and nothing without a traceparent', () => {
    expect(traceHeadersOf({ traceparent: 'a', tracestate: 'b', authorization: 'x' })).toEqual({ traceparent: 'a', tracestate: 'b' });
    expect(traceHeadersOf({ traceparent: 'a', tracestate: ['b'] })).toEqual({ traceparent: 'a' });
    expect(traceHeadersOf({ tracestate: 'b' })).toBeUndefined();
    expect(traceHeadersOf({ traceparent: ['a', 'b'] })).toBeUndefined();
    expect(traceHeadersOf(undefined)).toBeUndefined();
  });
});
