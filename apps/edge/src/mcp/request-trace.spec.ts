import type { JsonRpcMessage } from '#contracts';
import { noTracing, startTracing, type McpOutcome } from '#observability';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { McpHttpRequest } from './http-io.js';
import { traceRequests } from './request-trace.js';

const HEADER = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
const META = { traceparent: '00-11111111111111111111111111111111-2222222222222222-01' };

function request(headers: Record<string, string> = {}): McpHttpRequest {
  return {
    method: 'POST',
    headers,
    query: new URLSearchParams(),
    body: undefined,
    clientAddress: '127.0.0.1',
    receivedAt: performance.now(),
    onClose: () => undefined,
  };
}

const call = (id: number, meta?: Record<string, string>): JsonRpcMessage => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: { secret: 'never' }, ...(meta && { _meta: meta }) },
});

describe('traceRequests', () => {
  it('with tracing off hands back the meter itself and no context', () => {
    const meter = (): void => undefined;
    expect(traceRequests(noTracing, 'echo', request(HEADER), [call(1)], meter)).toEqual({ meter, context: undefined });
  });

  it("starts a span per request in the client's trace (header first, else _meta), ending each as the meter counts it", async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = await startTracing({ serviceName: 'gatehouse-edge', processor: new SimpleSpanProcessor(exporter) });
    const counted: [string, McpOutcome][] = [];
    const notification: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/initialized' };
    const withHeader = traceRequests(tracing, 'echo', request(HEADER), [notification, call(1, META), call(2)], (m, o) => {
      counted.push([m, o]);
    });
    expect(withHeader.context?.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    withHeader.meter('tools/call', 'ok');
    withHeader.meter('tools/call', 'cancelled');
    withHeader.meter('tools/call', 'error'); // nothing left to end: counted all the same
    expect(counted).toHaveLength(3);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.spanContext().traceId, s.attributes['gatehouse.outcome']])).toEqual([
      ['4bf92f3577b34da6a3ce929d0e0e4736', 'ok'],
      ['4bf92f3577b34da6a3ce929d0e0e4736', 'cancelled'],
    ]);
    expect(spans[0]?.attributes).toEqual({
      'mcp.server': 'echo',
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'echo',
      'gatehouse.outcome': 'ok',
    });

    exporter.reset();
    traceRequests(tracing, 'echo', request(), [call(3, META)], () => undefined).meter('tools/call', 'ok');
    expect(exporter.getFinishedSpans()[0]?.parentSpanContext?.spanId).toBe('2222222222222222');
  });
});
