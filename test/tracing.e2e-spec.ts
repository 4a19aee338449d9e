import { rmSync } from 'node:fs';
import { eventually, startTopology, type Topology } from '#testing';
import { envelope, postModern } from './support/mcp-2026.js';
import { OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { AUTHORIZATION, callMeta, clientTrace, initialize, received, TOKEN, TRACEPARENT, writeConfig } from './support/traced-server.js';

function one(spans: ReceivedSpan[], service: string, name: string): ReceivedSpan {
  const found = spans.filter((s) => s.service === service && s.name === name);
  expect(found).toHaveLength(1);
  return found[0];
}

describe('tracing (distributed: edge, auth and runner as separate processes over NATS)', () => {
  let topology: Topology;
  let receiver: OtlpReceiver;
  let configDir: string;
  let url: string;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    const config = writeConfig(`tracing${Date.now().toString(36)}d`);
    configDir = config.dir;
    topology = await startTopology('distributed', config.path, {
      runnerCount: 1,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
    url = `${topology.url}/traced/mcp`;
  }, 60000);

  afterAll(async () => {
    await topology?.stop();
    await receiver?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  it("makes one trace of a tools/call: the client's span → edge → runner → the backend's _meta.traceparent", async () => {
    const opening = clientTrace();
    const sessionId = await initialize(url, { traceparent: opening.traceparent });
    const client = clientTrace();
    const meta = await callMeta(url, sessionId, { custom: 'kept' }, { traceparent: client.traceparent, tracestate: 'client=1' });

    const [, backendTraceId, backendParentId] = TRACEPARENT.exec(String(meta?.traceparent)) ?? [];
    expect(backendTraceId).toBe(client.traceId);
    expect(meta).toMatchObject({ custom: 'kept', tracestate: 'client=1' });

    await eventually(() => receiver.inTrace(client.traceId).length >= 2, 'expected the edge and runner spans exported');
    const spans = receiver.inTrace(client.traceId);
    const edge = one(spans, 'gatehouse-edge', 'mcp tools/call');
    const runner = one(spans, 'gatehouse-runner', 'runner tools/call');
    expect(edge.parentSpanId).toBe(client.spanId);
    expect(runner.parentSpanId).toBe(edge.spanId);
    expect(backendParentId).toBe(runner.spanId);
    const attributes = { 'mcp.server': 'traced', 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'meta', 'gatehouse.outcome': 'ok' };
    expect(edge.attributes).toEqual(attributes);
    expect(runner.attributes).toEqual(attributes);
    // The session's opening is traced the same way, through the runner's control plane.
    await eventually(() => receiver.inTrace(opening.traceId).length >= 2, 'expected the initialize spans exported');
    const opened = one(receiver.inTrace(opening.traceId), 'gatehouse-edge', 'mcp initialize');
    expect(opened.parentSpanId).toBe(opening.spanId);
    expect(one(receiver.inTrace(opening.traceId), 'gatehouse-runner', 'runner initialize').parentSpanId).toBe(opened.spanId);
    // The runner's log lines written in the trace carry its id.
    const started = (topology.runners[0]?.output() ?? '').split('\n').filter((line) => line.includes('"backend started"'));
    expect(started.some((line) => line.includes(`"traceId":"${opening.traceId}"`))).toBe(true);
    // Never the arguments, the credential or the session, anywhere in what was exported.
    expect(receiver.bodies.length).toBeGreaterThan(0);
    const exported = receiver.bodies.join('\n');
    for (const secret of ['argument-never-traced', TOKEN, sessionId]) expect(exported).not.toContain(secret);
  }, 30000);

  it("continues a client's _meta.traceparent when it sends no traceparent header, and ignores an invalid one", async () => {
    const sessionId = await initialize(url);
    const client = clientTrace();
    const fromMeta = await callMeta(url, sessionId, { traceparent: client.traceparent });
    expect(TRACEPARENT.exec(String(fromMeta?.traceparent))?.[1]).toBe(client.traceId);
    expect(fromMeta?.traceparent).not.toBe(client.traceparent);

    const invalid = await callMeta(url, sessionId, undefined, { traceparent: 'not-a-traceparent' });
    expect(String(invalid?.traceparent)).toMatch(TRACEPARENT);
    await eventually(() => receiver.inTrace(client.traceId).length >= 2, 'expected the spans of the _meta trace exported');
    expect(one(receiver.inTrace(client.traceId), 'gatehouse-edge', 'mcp tools/call').parentSpanId).toBe(client.spanId);
  }, 30000);

  it("continues the client's trace into auth for the OAuth routes the edge relays, recording the path but never the query", async () => {
    const client = clientTrace();
    const res = await fetch(`${topology.url}/.well-known/oauth-authorization-server?state=query-never-traced`, {
      headers: { traceparent: client.traceparent },
    });
    await res.arrayBuffer();
    await eventually(() => receiver.inTrace(client.traceId).length >= 1, 'expected the auth span exported');
    const span = one(receiver.inTrace(client.traceId), 'gatehouse-auth', 'auth GET');
    expect(span.parentSpanId).toBe(client.spanId);
    expect(span.attributes).toEqual({
      'http.request.method': 'GET',
      'url.path': '/.well-known/oauth-authorization-server',
      'gatehouse.outcome': 'ok',
    });
  }, 30000);

  it('traces a 2026-07-28 stateless call through the warm pool the same way', async () => {
    const client = clientTrace();
    const answer = await postModern(
      url,
      AUTHORIZATION,
      { jsonrpc: '2.0', id: 'c1', method: 'tools/call', params: { name: 'meta', arguments: {}, _meta: envelope() } },
      { traceparent: client.traceparent },
    );
    expect(answer.status).toBe(200);
    const meta = received(answer.response);
    const [, traceId, parentId] = TRACEPARENT.exec(String(meta?.traceparent)) ?? [];
    expect(traceId).toBe(client.traceId);
    await eventually(
      () => receiver.inTrace(client.traceId).filter((s) => s.name.endsWith(' tools/call')).length >= 2,
      'expected the stateless call spans exported',
    );
    const spans = receiver.inTrace(client.traceId);
    const edge = one(spans, 'gatehouse-edge', 'mcp tools/call');
    const runner = one(spans, 'gatehouse-runner', 'runner tools/call');
    expect(edge.parentSpanId).toBe(client.spanId);
    expect(runner.parentSpanId).toBe(edge.spanId);
    expect(parentId).toBe(runner.spanId);
  }, 30000);
});

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT, all-in-one)', () => {
  let topology: Topology;
  let configDir: string;

  beforeAll(async () => {
    const config = writeConfig(`tracing${Date.now().toString(36)}a`);
    configDir = config.dir;
    topology = await startTopology('all-in-one', config.path, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: '' } });
  }, 60000);

  afterAll(async () => {
    await topology?.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  it("adds no _meta.traceparent, and passes a client's _meta as it was sent", async () => {
    const url = `${topology.url}/traced/mcp`;
    const sessionId = await initialize(url);
    const client = clientTrace();
    expect(await callMeta(url, sessionId, undefined, { traceparent: client.traceparent })).toBeNull();
    const own = { traceparent: client.traceparent, tracestate: 'client=1', custom: 'kept' };
    expect(await callMeta(url, sessionId, own, { traceparent: clientTrace().traceparent })).toEqual(own);
  }, 30000);
});
