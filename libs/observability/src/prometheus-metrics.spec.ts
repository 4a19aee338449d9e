import { serveMetrics, type MetricsListener } from './metrics-server.js';
import { noMetrics } from './metrics.port.js';
import { PrometheusMetrics } from './prometheus-metrics.js';

/** The value of one series in the exposition text, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? '').split(/,(?=[a-z_]+=")/);
    if (wanted.every((w) => have.includes(w)) && have.length === wanted.length) return Number(match[3]);
  }
  return undefined;
}

describe('PrometheusMetrics', () => {
  let metrics: PrometheusMetrics;
  let listener: MetricsListener;
  let url: string;

  beforeEach(async () => {
    metrics = new PrometheusMetrics(['everything']);
    listener = await serveMetrics(metrics, { host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${listener.address.port}`;
  });
  afterEach(() => listener.close());

  const scrape = async () => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  };

  it('serves every metric with bounded labels, and Node default metrics, at /metrics', async () => {
    metrics.httpRequest('/:server/mcp', 'POST', 200);
    metrics.httpRequest('', 'GET', 404);
    metrics.mcpRequest('everything', 'tools/call', 'ok', 0.02);
    metrics.mcpRequest('made-up', 'secret/method', 'refused', 0.001);
    metrics.busRequest('gh.runner.*.session.*.in', 'ok', 0.002);
    metrics.busRequest('gh.runner.*.session.open', 'no_responders', 0.001);
    metrics.tokenCheck('expired');
    metrics.login('ok');
    metrics.spawnFailed('everything');
    metrics.upstreamError('everything', 'unreachable');
    const text = await scrape();
    const http = 'gatehouse_http_requests_total';
    expect(sample(text, http, { route: '/:server/mcp', method: 'POST', status: '200', status_class: '2xx' })).toBe(1);
    expect(sample(text, http, { route: 'unmatched', method: 'GET', status: '404', status_class: '4xx' })).toBe(1);
    expect(sample(text, 'gatehouse_mcp_requests_total', { server: 'everything', method: 'tools/call', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'gatehouse_mcp_requests_total', { server: 'other', method: 'other', outcome: 'refused' })).toBe(1);
    const histogram = { server: 'everything', method: 'tools/call', outcome: 'ok' };
    expect(sample(text, 'gatehouse_mcp_request_duration_seconds_count', histogram)).toBe(1);
    expect(sample(text, 'gatehouse_mcp_request_duration_seconds_bucket', { ...histogram, le: '0.025' })).toBe(1);
    expect(sample(text, 'gatehouse_mcp_request_duration_seconds_bucket', { ...histogram, le: '0.01' })).toBe(0);
    expect(sample(text, 'gatehouse_bus_request_duration_seconds_count', { subject: 'gh.runner.*.session.*.in', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'gatehouse_bus_no_responders_total', { subject: 'gh.runner.*.session.open' })).toBe(1);
    expect(sample(text, 'gatehouse_token_checks_total', { outcome: 'expired' })).toBe(1);
    expect(sample(text, 'gatehouse_logins_total', { outcome: 'ok' })).toBe(1);
    expect(sample(text, 'gatehouse_backend_spawn_failures_total', { server: 'everything' })).toBe(1);
    expect(sample(text, 'gatehouse_upstream_errors_total', { server: 'everything', kind: 'unreachable' })).toBe(1);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).not.toContain('made-up');
    expect(text).not.toContain('secret/method');
  });

  it('moves the gauges up and down by server', async () => {
    metrics.sessions('everything', 1);
    metrics.sessions('everything', 1);
    metrics.streams('everything', 1);
    metrics.backendProcesses('everything', 1);
    let text = await scrape();
    expect(sample(text, 'gatehouse_open_sessions', { server: 'everything' })).toBe(2);
    expect(sample(text, 'gatehouse_open_streams', { server: 'everything' })).toBe(1);
    expect(sample(text, 'gatehouse_backend_processes', { server: 'everything' })).toBe(1);
    metrics.sessions('everything', -1);
    metrics.sessions('everything', -1);
    metrics.streams('everything', -1);
    metrics.backendProcesses('everything', -1);
    text = await scrape();
    expect(sample(text, 'gatehouse_open_sessions', { server: 'everything' })).toBe(0);
    expect(sample(text, 'gatehouse_open_streams', { server: 'everything' })).toBe(0);
    expect(sample(text, 'gatehouse_backend_processes', { server: 'everything' })).toBe(0);
  });

  it('keeps one registry per instance', async () => {
    const other = new PrometheusMetrics(['everything']);
    other.login('denied');
    expect(await scrape()).not.toContain('outcome="denied"');
    expect(await other.registry.metrics()).toContain('gatehouse_logins_total{outcome="denied"} 1');
  });

  it('answers 404 to every other path and method', async () => {
    expect((await fetch(`${url}/`)).status).toBe(404);
    expect((await fetch(`${url}/metrics/x`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${url}/metrics?x=1`)).status).toBe(200);
  });
});

describe('noMetrics', () => {
  it('is off and accepts every call', () => {
    expect(noMetrics.enabled).toBe(false);
    noMetrics.mcpRequest('s', 'tools/call', 'ok', 1);
    noMetrics.sessions('s', -1);
  });
});
