import { createServer, type Server } from 'node:http';
import { GatehouseError } from '#contracts';
import { sendError } from './http-io.js';

let server: Server;
let url = '';
let refusal = new GatehouseError('bad_request', 400, 'Bad Request');

beforeAll(async () => {
  server = createServer((_req, res) => sendError(res, refusal));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  url = `http://127.0.0.1:${address.port}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** What a client reads when `err` is sent. */
async function sent(err: GatehouseError): Promise<{ status: number; body: unknown; headers: Headers }> {
  refusal = err;
  const response = await fetch(url, { method: 'POST' });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

describe('sendError', () => {
  it('carries rpcData as the JSON-RPC error data, with the request id', async () => {
    const data = { supported: ['2026-07-28'], requested: '1900-01-01' };
    const err = new GatehouseError('unsupported_protocol_version', 400, 'Unsupported protocol version', {
      rpcCode: -32022,
      rpcId: 7,
      rpcData: data,
    });
    const { status, body } = await sent(err);
    expect({ status, body }).toEqual({
      status: 400,
      body: { jsonrpc: '2.0', id: 7, error: { code: -32022, message: 'Unsupported protocol version', data } },
    });
  });

  it('leaves data out when the error has none', async () => {
    const { body } = await sent(new GatehouseError('bad_request', 400, 'Bad Request: no', { rpcCode: -32600 }));
    expect(body).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Bad Request: no' } });
  });

  it('shows no data of an error whose message may not be shown', async () => {
    const err = new GatehouseError('internal', 502, 'secret detail', { expose: false, rpcData: { detail: 'secret' } });
    const { status, body } = await sent(err);
    expect(status).toBe(502);
    expect(body).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'The gateway could not complete the request' } });
  });

  it("sends the error's headers beside its own, which it keeps", async () => {
    const err = new GatehouseError('unauthorized', 401, 'Unauthorized', {
      headers: { 'www-authenticate': ['Bearer realm="a"', 'Basic realm="b"'], 'retry-after': '5', 'content-type': 'text/html' },
    });
    const { status, body, headers } = await sent(err);
    expect(status).toBe(401);
    expect(headers.get('www-authenticate')).toBe('Bearer realm="a", Basic realm="b"');
    expect(headers.get('retry-after')).toBe('5');
    expect(headers.get('content-type')).toBe('application/json');
    expect(Number(headers.get('content-length'))).toBe(Buffer.byteLength(JSON.stringify(body)));
  });
});
