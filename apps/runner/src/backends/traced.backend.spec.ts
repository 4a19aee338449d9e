import type { JsonRpcMessage } from '#contracts';
import { noTracing, startTracing } from '#observability';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { BackendConnection } from './backend.port.js';
import { tracedBackend } from './traced.backend.js';

/** A backend that keeps what it is sent. */
class RecordingBackend implements BackendConnection {
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  readonly sent: JsonRpcMessage[] = [];
  start = () => Promise.resolve();
  send = (message: JsonRpcMessage) => void this.sent.push(message);
  close = () => Promise.resolve();
}

const EDGE = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
const CLIENT = { traceparent: '00-11111111111111111111111111111111-2222222222222222-01', tracestate: 'client=1' };
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

async function setUp() {
  const exporter = new InMemorySpanExporter();
  const tracing = await startTracing({ serviceName: 'gatehouse-runner', processor: new SimpleSpanProcessor(exporter) });
  const inner = new RecordingBackend();
  const backend = tracedBackend(inner, tracing, 'echo');
  const received: JsonRpcMessage[] = [];
  backend.onmessage = (m) => void received.push(m);
  return { exporter, tracing, inner, backend, received };
}

const call = (meta?: Record<string, unknown>): JsonRpcMessage => ({
  jsonrpc: '2.0',
  id: 7,
  method: 'tools/call',
  params: { name: 'echo', arguments: { secret: 's3cret' }, ...(meta && { _meta: meta }) },
});

describe('tracedBackend', () => {
  it('with tracing off is the backend itself, which gets the very message the client sent', () => {
    const inner = new RecordingBackend();
    const backend = tracedBackend(inner, noTracing, 'echo');
    expect(backend).toBe(inner);
    const message = call({ traceparent: CLIENT.traceparent, progressToken: 1 });
    backend.send(message);
    expect(inner.sent[0]).toBe(message);
  });

  it("gives the backend the runner span as _meta.traceparent, in the bus message's trace, keeping the rest of _meta", async () => {
    const { exporter, tracing, inner, backend } = await setUp();
    const message = call({ ...CLIENT, progressToken: 'p1' });
    const before = JSON.stringify(message);
    tracing.within(EDGE, () => backend.send(message));
    expect(JSON.stringify(message)).toBe(before);
    const meta = (inner.sent[0]?.params as { _meta: Record<string, unknown> })._meta;
    expect(meta.progressToken).toBe('p1');
    expect(meta.tracestate).toBeUndefined();
    const [, traceId, parentId] = TRACEPARENT.exec(String(meta.traceparent)) ?? [];
    expect(traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    inner.onmessage?.({ jsonrpc: '2.0', id: 7, result: { content: [] } });
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('runner tools/call');
    expect(span?.spanContext().spanId).toBe(parentId);
    expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(span?.attributes).toEqual({
      'mcp.server': 'echo',
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'echo',
      'gatehouse.outcome': 'ok',
    });
  });

  it("continues the client's _meta.traceparent when the bus message names no trace", async () => {
    const { exporter, inner, backend } = await setUp();
    backend.send(call(CLIENT));
    inner.onmessage?.({ jsonrpc: '2.0', id: 7, error: { code: -32000, message: 'no' } });
    const [span] = exporter.getFinishedSpans();
    expect(span?.spanContext().traceId).toBe('11111111111111111111111111111111');
    expect(span?.attributes['gatehouse.outcome']).toBe('error');
  });

  it('ends a span when its request is cancelled, and every span when the backend goes', async () => {
    const { exporter, inner, backend, received } = await setUp();
    backend.send(call());
    backend.send({ jsonrpc: '2.0', id: 8, method: 'tools/list', params: {} });
    backend.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7 } });
    inner.onclose?.('gone');
    expect(exporter.getFinishedSpans().map((s) => [s.name, s.attributes['gatehouse.outcome']])).toEqual([
      ['runner tools/call', 'cancelled'],
      ['runner tools/list', 'error'],
    ]);
    inner.onmessage?.({ jsonrpc: '2.0', method: 'notifications/message', params: {} });
    expect(received).toHaveLength(1);
    expect((inner.sent[2]?.params as Record<string, unknown>)._meta).toBeUndefined();
  });
});

describe('TracedBackend and the trace it runs in', () => {
  it("sends in the request's span, and hands the backend's output on outside any trace", async () => {
    const { tracing, inner, backend } = await setUp();
    const seen: (string | undefined)[] = [];
    inner.send = () => void seen.push(tracing.outgoing()?.traceparent);
    backend.onmessage = () => void seen.push(tracing.outgoing()?.traceparent ?? 'none');
    tracing.within(EDGE, () => {
      backend.send(call());
      inner.onmessage?.({ jsonrpc: '2.0', method: 'notifications/message', params: {} });
    });
    expect(seen[0]).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(seen[0]).not.toBe(EDGE.traceparent);
    expect(seen[1]).toBe('none');
  });
});
