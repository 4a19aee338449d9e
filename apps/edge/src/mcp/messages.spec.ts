import type { IncomingHttpHeaders } from 'node:http';
import { GatehouseError, MAX_JSON_DEPTH, messageText } from '#contracts';
import type { McpHttpRequest } from './http-io.js';
import { acceptedModes, batchAllowedIn, parseBody, protocolVersionOf } from './messages.js';

function post(body: string | undefined, headers: IncomingHttpHeaders = { 'content-type': 'application/json' }): McpHttpRequest {
  return {
    method: 'POST',
    headers,
    query: new URLSearchParams(),
    body: body === undefined ? undefined : Buffer.from(body, 'utf8'),
    receivedAt: 0,
    clientAddress: '127.0.0.1',
    onClose: () => undefined,
  };
}

/** The GatehouseError `fn` throws; fails the test if it throws nothing or something else. */
function refusal(fn: () => unknown): GatehouseError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatehouseError) return err;
    throw err;
  }
  throw new Error('expected a GatehouseError');
}

const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };

describe('parseBody', () => {
  it('parses one JSON-RPC message', () => {
    expect(parseBody(post(JSON.stringify(ping)), false)).toEqual({ messages: [ping], batch: false });
  });

  it("keeps a lone message's text as the client wrote it, for the bus to carry; a batch's messages keep none", () => {
    const written = `\n${JSON.stringify(ping, null, 2)} `;
    const [lone] = parseBody(post(written), false).messages;
    expect(lone && messageText(lone)).toBe(written);
    const batch = parseBody(post(JSON.stringify([ping, initialized])), true).messages;
    expect(batch.map(messageText)).toEqual([undefined, undefined]);
  });

  it.each([['text/plain'], ['application/jsonx'], ['']])('refuses Content-Type %j with 415', (type) => {
    const err = refusal(() => parseBody(post(JSON.stringify(ping), { 'content-type': type }), false));
    expect(err).toMatchObject({ status: 415, rpcCode: -32600 });
  });

  it('refuses a request without Content-Type with 415', () => {
    expect(refusal(() => parseBody(post(JSON.stringify(ping), {}), false)).status).toBe(415);
  });

  it('accepts application/json with parameters and in any case', () => {
    expect(parseBody(post(JSON.stringify(ping), { 'content-type': 'application/json; charset=utf-8' }), false).messages).toEqual([ping]);
    expect(parseBody(post(JSON.stringify(ping), { 'content-type': 'Application/JSON' }), false).messages).toEqual([ping]);
  });

  it.each([['{"jsonrpc": "2.0",'], [''], ['not json']])('answers %j with a -32700 parse error', (body) => {
    expect(refusal(() => parseBody(post(body), false))).toMatchObject({ status: 400, rpcCode: -32700 });
  });

  it('treats a missing body as a parse error', () => {
    expect(refusal(() => parseBody(post(undefined), false))).toMatchObject({ status: 400, rpcCode: -32700 });
  });

  it.each([
    ['a wrong version', { jsonrpc: '1.0', id: 1, method: 'ping' }],
    ['no version', { id: 1, method: 'ping' }],
    ['neither method nor result', { jsonrpc: '2.0', id: 1 }],
    ['a non-object', 42],
    ['null', null],
  ])('refuses a message with %s as an invalid request (-32600)', (_, message) => {
    expect(refusal(() => parseBody(post(JSON.stringify(message)), false))).toMatchObject({ status: 400, rpcCode: -32600 });
  });

  it('refuses JSON nested deeper than the limit before parsing it, as an invalid request', () => {
    const deep = JSON.stringify({ ...ping, params: { a: 'HOLE' } }).replace('"HOLE"', `${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    expect(refusal(() => parseBody(post(deep), false))).toMatchObject({ status: 400, rpcCode: -32600 });
    const atLimit = JSON.stringify({ ...ping, params: { a: 'HOLE' } }).replace(
      '"HOLE"',
      `${'['.repeat(MAX_JSON_DEPTH - 2)}${']'.repeat(MAX_JSON_DEPTH - 2)}`,
    );
    expect(parseBody(post(atLimit), false).messages).toHaveLength(1);
  });

  it('answers a body that is not UTF-8 with a parse error', () => {
    const req = post('');
    req.body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    expect(refusal(() => parseBody(req, false))).toMatchObject({ status: 400, rpcCode: -32700 });
  });

  it.each([
    ['initialize without params', { jsonrpc: '2.0', id: 3, method: 'initialize' }],
    [
      'initialize with a number for clientInfo',
      { jsonrpc: '2.0', id: 3, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: 5 } },
    ],
    ['tools/call without a name', { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { arguments: {} } }],
    ['resources/read with a number uri', { jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 7 } }],
  ])('refuses %s with 400 and -32602 naming the request id', (_, message) => {
    const err = refusal(() => parseBody(post(JSON.stringify(message)), false));
    expect(err).toMatchObject({ status: 400, rpcCode: -32602, rpcId: 3 });
    expect(err.message).toContain(message.method);
  });

  it('refuses a malformed notification of the protocol with -32602 and a null id', () => {
    const err = refusal(() =>
      parseBody(post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 'x' } })), false),
    );
    expect(err).toMatchObject({ status: 400, rpcCode: -32602, rpcId: null });
  });

  it('passes methods the protocol does not define on to the backend unchecked', () => {
    const custom = { jsonrpc: '2.0', id: 4, method: 'x-vendor/anything', params: { whatever: [1, 'two'] } };
    expect(parseBody(post(JSON.stringify(custom)), false).messages).toEqual([custom]);
  });

  it('parses a batch when batches are allowed', () => {
    expect(parseBody(post(JSON.stringify([ping, initialized])), true)).toEqual({ messages: [ping, initialized], batch: true });
  });

  it('refuses a batch when batches are not allowed', () => {
    const err = refusal(() => parseBody(post(JSON.stringify([ping])), false));
    expect(err).toMatchObject({ status: 400, rpcCode: -32600, message: expect.stringContaining('batches') });
  });

  it('refuses an empty batch', () => {
    const err = refusal(() => parseBody(post('[]'), true));
    expect(err).toMatchObject({ status: 400, rpcCode: -32600, message: expect.stringContaining('empty batch') });
  });

  it('names the invalid item of a batch', () => {
    const err = refusal(() => parseBody(post(JSON.stringify([ping, { jsonrpc: '2.0' }])), true));
    expect(err).toMatchObject({ rpcCode: -32600, message: expect.stringContaining('batch item 1') });
  });

  it('refuses initialize inside a batch', () => {
    const initialize = {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
    };
    const err = refusal(() => parseBody(post(JSON.stringify([initialize, initialized])), true));
    expect(err).toMatchObject({ status: 400, rpcCode: -32600, message: expect.stringContaining('initialize') });
  });
});

describe('protocolVersionOf', () => {
  it('defaults to 2025-03-26 without the header', () => {
    expect(protocolVersionOf(post(undefined, {}))).toBe('2025-03-26');
  });

  // 2024-11-05 too: a backend may agree on it at initialize, and the client then sends it.
  it.each([['2025-11-25'], ['2025-06-18'], ['2025-03-26'], ['2024-11-05']])('returns the supported version %s', (version) => {
    expect(protocolVersionOf(post(undefined, { 'mcp-protocol-version': version }))).toBe(version);
  });

  it('refuses an unsupported version with 400 naming it, as the modern UnsupportedProtocolVersion error', () => {
    const err = refusal(() => protocolVersionOf(post(undefined, { 'mcp-protocol-version': '2023-01-01' })));
    expect(err).toMatchObject({ status: 400, rpcCode: -32022, message: expect.stringContaining('"2023-01-01"') });
    expect(err.rpcData).toEqual({ supported: expect.arrayContaining(['2025-11-25', '2025-03-26']), requested: '2023-01-01' });
  });
});

describe('batchAllowedIn', () => {
  it('allows batches only in 2025-03-26 and the legacy 2024-11-05', () => {
    expect(batchAllowedIn('2025-03-26')).toBe(true);
    expect(batchAllowedIn('2024-11-05')).toBe(true);
    expect(batchAllowedIn('2025-06-18')).toBe(false);
    expect(batchAllowedIn('2025-11-25')).toBe(false);
  });
});

describe('acceptedModes', () => {
  it.each([
    [undefined, { json: true, sse: true }],
    ['*/*', { json: true, sse: true }],
    ['application/json, text/event-stream', { json: true, sse: true }],
    ['application/json', { json: true, sse: false }],
    ['TEXT/EVENT-STREAM', { json: false, sse: true }],
    ['text/html', { json: false, sse: false }],
  ])('reads Accept %j', (accept, modes) => {
    const headers: IncomingHttpHeaders = accept === undefined ? {} : { accept };
    expect(acceptedModes(post(undefined, headers))).toEqual(modes);
  });
});
