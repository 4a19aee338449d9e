import { PrometheusMetrics } from '#observability';
import { refusedMethods, requestMeter } from './request-meter.js';

describe('refusedMethods', () => {
  it('names the requests of a refused body, skipping notifications', () => {
    const body = (value: unknown) => Buffer.from(JSON.stringify(value));
    expect(refusedMethods(body({ jsonrpc: '2.0', id: 1, method: 'tools/call' }))).toEqual(['tools/call']);
    expect(
      refusedMethods(
        body([
          { jsonrpc: '2.0', id: 1, method: 'tools/list' },
          { jsonrpc: '2.0', method: 'notifications/initialized' },
          { jsonrpc: '2.0', id: 2, method: 'ping' },
        ]),
      ),
    ).toEqual(['tools/list', 'ping']);
    expect(refusedMethods(body({ jsonrpc: '2.0', method: 'notifications/initialized' }))).toEqual([]);
  });

  it('counts one unknown request for a body it cannot or will not read', () => {
    expect(refusedMethods(undefined)).toEqual(['other']);
    expect(refusedMethods(Buffer.from('{not json'))).toEqual(['other']);
    expect(refusedMethods(Buffer.alloc(65 * 1024, 0x20))).toEqual(['other']);
  });
});

describe('requestMeter', () => {
  it('times from the HTTP request’s arrival', async () => {
    const metrics = new PrometheusMetrics(['everything']);
    requestMeter(metrics, 'everything', performance.now() - 1500)('tools/call', 'ok');
    const sum = /gatehouse_mcp_request_duration_seconds_sum\{[^}]*\} (\S+)/.exec(await metrics.registry.metrics())?.[1];
    expect(Number(sum)).toBeGreaterThanOrEqual(1.5);
    expect(Number(sum)).toBeLessThan(5);
  });
});
