import type { IncomingHttpHeaders } from 'node:http';
import { GatehouseError, type JsonRpcMessage } from '#contracts';
import { McpErrors } from './mcp-errors.js';
import type { ParsedBody } from './messages.js';
import {
  checkStatelessRequest,
  decodeHeaderValue,
  GATEWAY_PROTOCOL_VERSIONS,
  isStatelessRequest,
  STATELESS_PROTOCOL_VERSION,
  STATELESS_VERSIONS,
} from './request-metadata.js';

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

const base64 = (text: string) => `=?base64?${Buffer.from(text, 'utf8').toString('base64')}?=`;

const meta = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'ExampleClient', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** A 2026-07-28 request as a client sends it; `_meta` fields set to undefined are left out by JSON. */
function call(method: string, params: Record<string, unknown> = {}, metaFields: Record<string, unknown> = {}): JsonRpcMessage {
  return { jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: { ...meta, ...metaFields } } };
}

function headersFor(method: string, extra: IncomingHttpHeaders = {}): IncomingHttpHeaders {
  return { 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...extra };
}

const toolCall = call('tools/call', { name: 'get_weather', arguments: { location: 'Seattle, WA' } });
const toolHeaders = headersFor('tools/call', { 'mcp-name': 'get_weather' });

describe('decodeHeaderValue', () => {
  it.each([['get_weather'], ['file:///projects/myapp/config.json'], ['with space\tand tab'], ['']])('returns plain %j as it is', (v) => {
    expect(decodeHeaderValue(v)).toBe(v);
  });

  it.each([
    ['=?base64?SGVsbG8sIOS4lueVjA==?=', 'Hello, 世界'],
    ['=?base64?IHBhZGRlZCA=?=', ' padded '],
    ['=?base64?bGluZTEKbGluZTI=?=', 'line1\nline2'],
    ['=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=', '=?base64?literal?='],
    ['=?base64??=', ''],
  ])('decodes the sentinel %s (the spec examples)', (encoded, decoded) => {
    expect(decodeHeaderValue(encoded)).toBe(decoded);
  });

  it('keeps a byte order mark the client encoded', () => {
    expect(decodeHeaderValue(base64('\uFEFFname'))).toBe('\uFEFFname');
  });

  it.each([['=?BASE64?SGk=?='], ['=?base64?SGk=?'], ['?base64?SGk=?='], ['=?base64?=']])(
    'takes %s literally: the markers are exact and case-sensitive',
    (v) => {
      expect(decodeHeaderValue(v)).toBe(v);
    },
  );

  it.each([
    ['a literal that looks like the sentinel but was not encoded', '=?base64?literal?='],
    ['characters outside Base64', '=?base64?SGk!?='],
    ['missing padding', '=?base64?SGk?='],
    ['non-zero trailing bits', '=?base64?SGl=?='],
    ['base64url', '=?base64?-_8=?='],
    ['bytes that are not UTF-8', '=?base64?/w==?='],
  ])('refuses %s', (_why, v) => {
    expect(decodeHeaderValue(v)).toBeUndefined();
  });

  it.each([['café'], ['a\u0001b'], ['line\nbreak'], ['世界']])('refuses %j: not visible ASCII, space or tab', (v) => {
    expect(decodeHeaderValue(v)).toBeUndefined();
  });
});

describe('isStatelessRequest', () => {
  const unread = (): ParsedBody => {
    throw new Error('the body should not be read');
  };
  const single = (message: JsonRpcMessage) => () => ({ messages: [message], batch: false });

  it('lists 2026-07-28 as the one stateless version', () => {
    expect(STATELESS_PROTOCOL_VERSION).toBe('2026-07-28');
    expect(STATELESS_VERSIONS).toEqual(['2026-07-28']);
    expect(GATEWAY_PROTOCOL_VERSIONS).toEqual(expect.arrayContaining(['2026-07-28', '2025-11-25', '2025-03-26']));
  });

  it('is true when the header names a stateless version, without reading the body', () => {
    expect(isStatelessRequest({ 'mcp-protocol-version': '2026-07-28' }, unread)).toBe(true);
    expect(isStatelessRequest({ 'mcp-protocol-version': '2026-07-28', 'mcp-session-id': 's1' }, unread)).toBe(true);
  });

  it('is false for a session without a stateless header, without reading the body', () => {
    expect(isStatelessRequest({ 'mcp-session-id': 's1' }, unread)).toBe(false);
    expect(isStatelessRequest({ 'mcp-session-id': 's1', 'mcp-protocol-version': '2025-11-25' }, unread)).toBe(false);
  });

  it('is true without header and session when the body claims a version in _meta', () => {
    expect(isStatelessRequest({}, single(toolCall))).toBe(true);
  });

  it('lets the body decide over a header naming another version, so the check can refuse the disagreement', () => {
    expect(isStatelessRequest({ 'mcp-protocol-version': '2025-11-25' }, single(toolCall))).toBe(true);
    expect(isStatelessRequest({ 'mcp-protocol-version': '2099-01-01' }, single(toolCall))).toBe(true);
  });

  it('is false for a session-era initialize or a body without the claim', () => {
    const initialize: JsonRpcMessage = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25' } };
    expect(isStatelessRequest({}, single(initialize))).toBe(false);
    expect(isStatelessRequest({ 'mcp-protocol-version': '2025-11-25' }, single({ jsonrpc: '2.0', id: 1, method: 'ping' }))).toBe(false);
  });

  it('is false for a batch', () => {
    expect(isStatelessRequest({}, () => ({ messages: [toolCall], batch: true }))).toBe(false);
  });
});

describe('checkStatelessRequest', () => {
  it('returns what a tools/call declares', () => {
    const message = call('tools/call', { name: 'get_weather' }, { 'io.modelcontextprotocol/logLevel': 'info' });
    expect(checkStatelessRequest(toolHeaders, message)).toEqual({
      protocolVersion: '2026-07-28',
      method: 'tools/call',
      name: 'get_weather',
      clientInfo: { name: 'ExampleClient', version: '1.0.0' },
      clientCapabilities: {},
      logLevel: 'info',
    });
  });

  it('needs no Mcp-Name, clientInfo or logLevel where the spec asks for none', () => {
    const message = call(
      'tools/list',
      {},
      { 'io.modelcontextprotocol/clientInfo': undefined, 'io.modelcontextprotocol/clientCapabilities': { roots: {} } },
    );
    expect(checkStatelessRequest(headersFor('tools/list'), message)).toEqual({
      protocolVersion: '2026-07-28',
      method: 'tools/list',
      clientCapabilities: { roots: {} },
    });
  });

  describe('protocol version', () => {
    it('refuses a version it does not speak with -32022, its data and the request id', () => {
      const err = refusal(() => checkStatelessRequest({ ...toolHeaders, 'mcp-protocol-version': '2099-01-01' }, toolCall));
      expect(err).toMatchObject({ status: 400, rpcCode: -32022, rpcId: 1, code: 'unsupported_protocol_version' });
      expect(err.rpcData).toEqual({ supported: [...GATEWAY_PROTOCOL_VERSIONS], requested: '2099-01-01' });
      expect(err.message).toBe(`Unsupported protocol version "2099-01-01"; supported: ${GATEWAY_PROTOCOL_VERSIONS.join(', ')}`);
    });

    it('takes the version a header-less body claims for -32022', () => {
      const message = call('tools/list', {}, { 'io.modelcontextprotocol/protocolVersion': '1900-01-01' });
      const err = refusal(() => checkStatelessRequest({ 'mcp-method': 'tools/list' }, message));
      expect(err).toMatchObject({ rpcCode: -32022, rpcData: { requested: '1900-01-01' } });
    });

    it('refuses a session-era version in the header over a 2026 body as a mismatch (-32020)', () => {
      const err = refusal(() => checkStatelessRequest({ ...toolHeaders, 'mcp-protocol-version': '2025-11-25' }, toolCall));
      expect(err).toMatchObject({ status: 400, rpcCode: -32020, rpcId: 1, code: 'header_mismatch' });
      expect(err.message).toBe("Header mismatch: MCP-Protocol-Version header value '2025-11-25' does not match body value '2026-07-28'");
    });

    it('refuses a header that disagrees with _meta (-32020)', () => {
      const message = call('tools/list', {}, { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' });
      const err = refusal(() => checkStatelessRequest(headersFor('tools/list'), message));
      expect(err).toMatchObject({ rpcCode: -32020 });
      expect(err.message).toBe("Header mismatch: MCP-Protocol-Version header value '2026-07-28' does not match body value '2099-01-01'");
    });

    it('refuses a request without the header (-32020)', () => {
      const err = refusal(() => checkStatelessRequest({ 'mcp-method': 'tools/call', 'mcp-name': 'get_weather' }, toolCall));
      expect(err).toMatchObject({ status: 400, rpcCode: -32020, message: 'Header mismatch: the MCP-Protocol-Version header is required' });
    });

    it.each([[undefined], [20260728]])('refuses _meta protocolVersion %j with -32602 (a required field)', (claimed) => {
      const message = call('tools/list', {}, { 'io.modelcontextprotocol/protocolVersion': claimed });
      const err = refusal(() => checkStatelessRequest(headersFor('tools/list'), message));
      expect(err).toMatchObject({ status: 400, rpcCode: -32602, rpcId: 1 });
      expect(err.message).toBe('Invalid params: _meta["io.modelcontextprotocol/protocolVersion"] is required and must be a string');
    });
  });

  describe('Mcp-Method', () => {
    it('is required (-32020)', () => {
      const err = refusal(() => checkStatelessRequest({ 'mcp-protocol-version': '2026-07-28', 'mcp-name': 'get_weather' }, toolCall));
      expect(err).toMatchObject({ rpcCode: -32020, rpcId: 1, message: 'Header mismatch: the Mcp-Method header is required' });
    });

    it('must equal the method, case and all (-32020)', () => {
      const err = refusal(() => checkStatelessRequest({ ...toolHeaders, 'mcp-method': 'Tools/Call' }, toolCall));
      expect(err).toMatchObject({ rpcCode: -32020 });
      expect(err.message).toBe("Header mismatch: Mcp-Method header value 'Tools/Call' does not match body value 'tools/call'");
    });

    it('is malformed with characters outside visible ASCII (-32020)', () => {
      // Node hands bytes above 0x7f to us as latin1 characters.
      const err = refusal(() => checkStatelessRequest({ ...toolHeaders, 'mcp-method': 'tools/call\u00e9' }, toolCall));
      expect(err).toMatchObject({ rpcCode: -32020, message: 'Header mismatch: Mcp-Method header value is malformed' });
    });
  });

  describe('Mcp-Name', () => {
    it.each([
      ['tools/call', { name: 'get_weather' }],
      ['prompts/get', { name: 'code_review' }],
      ['resources/read', { uri: 'file:///projects/myapp/config.json' }],
    ])('is required for %s (-32020)', (method, params) => {
      const err = refusal(() => checkStatelessRequest(headersFor(method), call(method, params)));
      expect(err).toMatchObject({
        status: 400,
        rpcCode: -32020,
        message: `Header mismatch: the Mcp-Name header is required for ${method}`,
      });
    });

    it('mirrors params.uri for resources/read', () => {
      const uri = 'file:///projects/myapp/config.json';
      const checked = checkStatelessRequest(headersFor('resources/read', { 'mcp-name': uri }), call('resources/read', { uri }));
      expect(checked.name).toBe(uri);
    });

    it("refuses a name that is not the body's, as the spec's example words it", () => {
      const message = call('tools/call', { name: 'bar' });
      const err = refusal(() => checkStatelessRequest(headersFor('tools/call', { 'mcp-name': 'foo' }), message));
      expect(err).toMatchObject({
        rpcCode: -32020,
        message: "Header mismatch: Mcp-Name header value 'foo' does not match body value 'bar'",
      });
    });

    it.each([['天気'], [' padded '], ['=?base64?literal?=']])('decodes the Base64 sentinel before comparing: %j', (name) => {
      const checked = checkStatelessRequest(headersFor('tools/call', { 'mcp-name': base64(name) }), call('tools/call', { name }));
      expect(checked.name).toBe(name);
    });

    it('compares the decoded name', () => {
      const message = call('tools/call', { name: '天気' });
      const err = refusal(() => checkStatelessRequest(headersFor('tools/call', { 'mcp-name': base64('天') }), message));
      expect(err.message).toBe("Header mismatch: Mcp-Name header value '天' does not match body value '天気'");
    });

    it.each([
      ['invalid Base64 in the sentinel', '=?base64?!!!?='],
      ['a sentinel look-alike sent unencoded', '=?base64?literal?='],
      ['non-ASCII sent unencoded', 'caf\u00e9'],
    ])('refuses %s as malformed (-32020)', (_why, value) => {
      const message = call('tools/call', { name: 'x' });
      const err = refusal(() => checkStatelessRequest(headersFor('tools/call', { 'mcp-name': value }), message));
      expect(err).toMatchObject({ status: 400, rpcCode: -32020, rpcId: 1, message: 'Header mismatch: Mcp-Name header value is malformed' });
    });

    it('refuses a body without the mirrored field with -32602', () => {
      const err = refusal(() => checkStatelessRequest(toolHeaders, call('tools/call', {})));
      expect(err).toMatchObject({ rpcCode: -32602, message: 'Invalid params: tools/call: params.name must be a string' });
    });
  });

  describe('_meta declarations', () => {
    it.each([[undefined], [null], [[]], ['all']])('refuses clientCapabilities %j with -32602', (capabilities) => {
      const message = call('tools/call', { name: 'get_weather' }, { 'io.modelcontextprotocol/clientCapabilities': capabilities });
      const err = refusal(() => checkStatelessRequest(toolHeaders, message));
      expect(err).toMatchObject({ status: 400, rpcCode: -32602, rpcId: 1 });
      expect(err.message).toBe('Invalid params: _meta["io.modelcontextprotocol/clientCapabilities"] is required and must be an object');
    });

    it('refuses a clientInfo without a version with -32602', () => {
      const message = call('tools/list', {}, { 'io.modelcontextprotocol/clientInfo': { name: 'ExampleClient' } });
      const err = refusal(() => checkStatelessRequest(headersFor('tools/list'), message));
      expect(err).toMatchObject({ rpcCode: -32602, message: expect.stringContaining('io.modelcontextprotocol/clientInfo') });
    });

    it('refuses an unknown logLevel with -32602', () => {
      const message = call('tools/list', {}, { 'io.modelcontextprotocol/logLevel': 'verbose' });
      const err = refusal(() => checkStatelessRequest(headersFor('tools/list'), message));
      expect(err).toMatchObject({ rpcCode: -32602, message: expect.stringContaining('io.modelcontextprotocol/logLevel') });
    });
  });

  it('echoes a string id', () => {
    const message = { ...toolCall, id: 'req-7' };
    const err = refusal(() => checkStatelessRequest({ ...toolHeaders, 'mcp-name': 'other' }, message));
    expect(err.rpcId).toBe('req-7');
  });

  describe('notifications', () => {
    const notification: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: meta } };

    it('require no headers, but what they send must agree', () => {
      expect(checkStatelessRequest({}, notification)).toMatchObject({ protocolVersion: '2026-07-28', method: 'notifications/cancelled' });
      const err = refusal(() => checkStatelessRequest({ 'mcp-method': 'notifications/progress' }, notification));
      expect(err).toMatchObject({ rpcCode: -32020, rpcId: null });
    });

    it('declare no capabilities unless they say so', () => {
      const bare: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } };
      expect(checkStatelessRequest({ 'mcp-protocol-version': '2026-07-28' }, bare)).toEqual({
        protocolVersion: '2026-07-28',
        method: 'notifications/cancelled',
        clientCapabilities: {},
      });
    });
  });

  it('refuses a JSON-RPC response with -32600', () => {
    const err = refusal(() => checkStatelessRequest(toolHeaders, { jsonrpc: '2.0', id: 1, result: {} }));
    expect(err).toMatchObject({ status: 400, rpcCode: -32600 });
  });
});

describe('McpErrors.missingClientCapability', () => {
  it('is 400 with -32021, the request id and data.requiredCapabilities', () => {
    const err = McpErrors.missingClientCapability({ elicitation: {} }, 1);
    expect(err).toMatchObject({ status: 400, rpcCode: -32021, rpcId: 1, code: 'missing_client_capability' });
    expect(err.rpcData).toEqual({ requiredCapabilities: { elicitation: {} } });
    expect(err.message).toBe('Missing required client capability: elicitation');
  });
});
