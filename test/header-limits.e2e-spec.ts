import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { startTopology, type Topology } from '#testing';
import { GATEWAY_ENV, TOKENS, writeGatewayConfig } from './support/gateway-config.js';
import { bearer } from './support/mcp-clients.js';
import { rawInitialize } from './support/raw-mcp.js';

/** The edge's limits (README, "Limits you will hit"). */
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_HEADER_COUNT = 100;
const HEADERS_TIMEOUT_MS = 15000;

interface RawAnswer {
  status: number;
  body: string;
  /** Whether the edge closed the connection. */
  closed: boolean;
}

/**
 * Writes `request` as is on a new connection and reads the answer until the connection closes or
 * `idleMs` pass without one (a kept-alive connection). A reset after the answer is not an error.
 */
function rawExchange(port: number, request: string, idleMs = 1000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const answer = (closed: boolean): void => {
      clearTimeout(timer);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      if (!status) return reject(new Error(`no HTTP answer (closed: ${closed}): ${JSON.stringify(text.slice(0, 200))}`));
      socket.destroy();
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4), closed });
    };
    let timer = setTimeout(() => answer(false), idleMs + HEADERS_TIMEOUT_MS + 5000);
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      clearTimeout(timer);
      timer = setTimeout(() => answer(false), idleMs);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => answer(true));
    socket.write(request, () => undefined);
  });
}

function getWithHeaders(path: string, fields: string[]): string {
  return [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...fields, '', ''].join('\r\n');
}

describe('the edge reads every header through its own limits', () => {
  let topology: Topology;
  let configDir: string;
  let port: number;

  beforeAll(async () => {
    const config = writeGatewayConfig({ maxPerUser: 4, runnerGroup: `hdr${Date.now().toString(36)}` });
    configDir = config.dir;
    topology = await startTopology('all-in-one', config.path, { env: GATEWAY_ENV });
    port = Number(new URL(topology.url).port);
  }, 60000);

  afterAll(async () => {
    await topology?.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  it.each([MAX_HEADER_BYTES + 1024, 1024 * 1024])('answers %i bytes of headers with 431 and closes the connection', async (size) => {
    const answer = await rawExchange(port, getWithHeaders('/health', [`X-Pad: ${'a'.repeat(size)}`]));
    expect(answer).toEqual({ status: 431, body: expect.any(String), closed: true });
    expect(JSON.parse(answer.body)).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: `Request headers are larger than the limit of ${MAX_HEADER_BYTES} bytes` },
    });
  });

  it('answers an oversized header from a real client with 431', async () => {
    const res = await fetch(`${topology.url}/everything/mcp`, { headers: { authorization: `Bearer ${'t'.repeat(MAX_HEADER_BYTES)}` } });
    expect(res.status).toBe(431);
    expect(await res.text()).toContain(`${MAX_HEADER_BYTES} bytes`);
  });

  it(`takes ${MAX_HEADER_COUNT} header fields and refuses more with 431, rather than ignoring the rest`, async () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-Field-${i}: ${i}`);
    const atLimit = await rawExchange(port, getWithHeaders('/health', fields(MAX_HEADER_COUNT - 1)));
    expect(atLimit).toMatchObject({ status: 200, closed: false });
    // An Origin past the limit would be dropped by Node's own cut-off, so the request is refused instead.
    const over = await rawExchange(port, getWithHeaders('/health', [...fields(MAX_HEADER_COUNT), 'Origin: http://evil.example']));
    expect(over.status).toBe(431);
    expect(JSON.parse(over.body)).toMatchObject({
      error: { code: -32600, message: `Request has more than ${MAX_HEADER_COUNT} header fields` },
    });
  });

  it('answers headers that never finish with 408 and closes the connection', async () => {
    const started = Date.now();
    const answer = await rawExchange(port, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expect(answer).toMatchObject({ status: 408, closed: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 500);
  }, 40000);

  it('keeps serving after all of that', async () => {
    expect((await fetch(`${topology.url}/health`)).status).toBe(200);
    expect(await rawInitialize(`${topology.url}/everything/mcp`, bearer(TOKENS.alice))).toMatch(/^[\w-]{22}$/);
  });
});
