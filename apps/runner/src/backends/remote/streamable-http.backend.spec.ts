import type { ServerResponse } from 'node:http';
import type { JsonRpcMessage } from '#contracts';
import { eventually } from '#testing';
import { capturedLogger, scriptedUpstream, sendJson, type Received, type Script } from './scripted-upstream.fixture.js';
import { StreamableHttpBackend } from './streamable-http.backend.js';

const INITIALIZE = {
  jsonrpc: '2.0' as const,
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'spec', version: '1' } },
};
const INITIALIZED = { jsonrpc: '2.0' as const, method: 'notifications/initialized' };
const context = { sessionId: 'session-1', sub: 'alice', server: 'scripted' };

const initializeResult = (id: unknown) => ({
  jsonrpc: '2.0',
  id,
  result: { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 'scripted', version: '1' } },
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A backend connected to a scripted upstream, with what it emitted and the reason it ended with. */
async function connect(script: Script, options: { maxMessageBytes?: number; timeoutMs?: number } = {}) {
  const upstream = await scriptedUpstream(script);
  const { log, lines } = capturedLogger();
  const backend = new StreamableHttpBackend({
    url: upstream.url,
    headers: { 'X-Key': 'configured' },
    timeoutMs: options.timeoutMs ?? 2000,
    maxMessageBytes: options.maxMessageBytes ?? 4096,
    log,
    context,
  });
  const emitted: JsonRpcMessage[] = [];
  let ended: string | undefined;
  backend.onmessage = (m) => emitted.push(m);
  backend.onclose = (reason) => (ended = reason);
  cleanups.push(
    () => upstream.close(),
    () => backend.close(),
  );
  await backend.start();
  return { backend, upstream, emitted, lines, endedWith: () => ended };
}

const answerOf = (emitted: JsonRpcMessage[], id: number) => emitted.find((m) => m.id === id && m.method === undefined);

/** Answers initialize (with a session id unless `stateless`) and acknowledges notifications. */
function basics(request: Received, res: ServerResponse, session: string | undefined): boolean {
  if (request.message?.method === 'initialize') {
    sendJson(res, 200, initializeResult(request.message.id), session === undefined ? {} : { 'mcp-session-id': session });
    return true;
  }
  if (request.method === 'POST' && request.message?.id === undefined) {
    res.writeHead(202).end();
    return true;
  }
  return false;
}

describe('StreamableHttpBackend', () => {
  it('reads a batch answered as JSON; a request acknowledged with 202 fails instead of hanging', async () => {
    const { backend, emitted, upstream } = await connect((request, res) => {
      if (basics(request, res, 's1')) return;
      if (request.method === 'GET') return void res.writeHead(405).end();
      if (request.message?.method === 'ping') return void res.writeHead(202).end();
      const log = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'listing' } };
      sendJson(res, 200, [log, { jsonrpc: '2.0', id: request.message?.id, result: { tools: [] } }]);
    });
    backend.send(INITIALIZE);
    backend.send(INITIALIZED);
    backend.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    backend.send({ jsonrpc: '2.0', id: 2, method: 'ping' });
    await eventually(() => answerOf(emitted, 1) !== undefined && answerOf(emitted, 2) !== undefined, 'no answers');
    expect(emitted.map((m) => m.method ?? m.id)).toEqual(expect.arrayContaining([0, 'notifications/message', 1, 2]));
    expect(answerOf(emitted, 2)?.error).toEqual({
      code: -32000,
      message: `upstream "scripted" (${upstream.url.origin}) accepted the request but did not answer it`,
    });
    const listed = upstream.received.find((r) => r.message?.method === 'tools/list');
    expect(listed?.headers).toMatchObject({ 'x-key': 'configured', 'mcp-session-id': 's1', 'mcp-protocol-version': '2025-06-18' });
  });

  it('works with a stateless upstream: no session id sent, no GET stream (405), no DELETE', async () => {
    const { backend, emitted, upstream } = await connect((request, res) => {
      if (basics(request, res, undefined)) return;
      if (request.method === 'GET') return void res.writeHead(405).end();
      sendJson(res, 200, { jsonrpc: '2.0', id: request.message?.id, result: {} });
    });
    backend.send(INITIALIZE);
    backend.send(INITIALIZED);
    await eventually(() => upstream.received.some((r) => r.method === 'GET'), 'no GET stream was tried');
    backend.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    await eventually(() => answerOf(emitted, 1) !== undefined, 'no answer');
    await backend.close();
    expect(upstream.received.map((r) => r.method)).toEqual(['POST', 'POST', 'GET', 'POST']);
    expect(upstream.received.every((r) => r.headers['mcp-session-id'] === undefined)).toBe(true);
  });

  it('renews a session the upstream forgot (400 "No valid session ID"), replaying initialize and initialized', async () => {
    let sessions = 0;
    const { backend, emitted, upstream } = await connect((request, res) => {
      if (basics(request, res, request.message?.method === 'initialize' ? `s${++sessions}` : undefined)) return;
      if (request.method === 'GET') return void res.writeHead(405).end();
      if (request.headers['mcp-session-id'] === 's1') {
        return sendJson(res, 400, {
          jsonrpc: '2.0',
          id: null,
          error: { code: -32000, message: 'Bad Request: No valid session ID provided' },
        });
      }
      sendJson(res, 200, { jsonrpc: '2.0', id: request.message?.id, result: { renewed: true } });
    });
    backend.send(INITIALIZE);
    await eventually(() => answerOf(emitted, 0) !== undefined, 'no initialize answer');
    backend.send(INITIALIZED);
    backend.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await eventually(() => answerOf(emitted, 1) !== undefined, 'no answer after renewal');
    expect(answerOf(emitted, 1)?.result).toEqual({ renewed: true });
    const posted = upstream.received
      .filter((r) => r.method === 'POST')
      .map((r) => [r.message?.method ?? r.message?.id, r.headers['mcp-session-id']]);
    expect(posted).toEqual(
      expect.arrayContaining([
        ['initialize', undefined],
        ['tools/list', 's1'],
        ['notifications/initialized', 's2'],
        ['tools/list', 's2'],
      ]),
    );
    expect(posted.filter(([what]) => what === 'initialize')).toHaveLength(2);
    // The renewal's own initialize answer is not the client's business.
    expect(emitted.filter((m) => m.id === 0)).toHaveLength(1);
  });

  it('ends the session when the renewed session is refused again', async () => {
    const { backend, upstream, endedWith } = await connect((request, res) => {
      if (basics(request, res, 'always-forgotten')) return;
      if (request.method === 'GET') return void res.writeHead(405).end();
      sendJson(res, 404, { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } });
    });
    backend.send(INITIALIZE);
    backend.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await eventually(() => endedWith() !== undefined, 'the session did not end');
    expect(endedWith()).toBe(`upstream "scripted" (${upstream.url.origin}) ended its session (HTTP 404) and a new one did not work either`);
  });

  it('closes the stream of a request the client cancelled, and answers nothing for it', async () => {
    let streamClosed = false;
    const { backend, emitted, upstream } = await connect((request, res, req) => {
      if (basics(request, res, 's1')) return;
      if (request.method === 'GET') return void res.writeHead(405).end();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': the answer will take a while\n\n');
      req.socket.once('close', () => (streamClosed = true));
    });
    backend.send(INITIALIZE);
    backend.send({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'slow' } });
    await eventually(() => upstream.received.some((r) => r.message?.method === 'tools/call'), 'the call did not reach the upstream');
    backend.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 5 } });
    await eventually(() => streamClosed, 'the stream of the cancelled request stayed open');
    await eventually(
      () => upstream.received.some((r) => r.message?.method === 'notifications/cancelled'),
      'the cancellation was not relayed',
    );
    expect(answerOf(emitted, 5)).toBeUndefined();
  });

  it('fails a request whose JSON answer is over maxMessageBytes, and goes on', async () => {
    const { backend, emitted, upstream } = await connect(
      (request, res) => {
        if (basics(request, res, 's1')) return;
        if (request.method === 'GET') return void res.writeHead(405).end();
        const text = request.message?.id === 1 ? 'x'.repeat(5000) : 'small';
        sendJson(res, 200, { jsonrpc: '2.0', id: request.message?.id, result: { text } });
      },
      { maxMessageBytes: 1024 },
    );
    backend.send(INITIALIZE);
    backend.send({ jsonrpc: '2.0', id: 1, method: 'tools/call' });
    backend.send({ jsonrpc: '2.0', id: 2, method: 'tools/call' });
    await eventually(() => answerOf(emitted, 1) !== undefined && answerOf(emitted, 2) !== undefined, 'no answers');
    expect(answerOf(emitted, 1)?.error).toEqual({
      code: -32000,
      message: `upstream "scripted" (${upstream.url.origin}) sent a message larger than 1024 bytes`,
    });
    expect(answerOf(emitted, 2)?.result).toEqual({ text: 'small' });
  });

  it('gives up a DELETE the upstream does not answer, so closing stays bounded', async () => {
    const { backend, upstream } = await connect((request, res) => {
      if (basics(request, res, 's1')) return;
      if (request.method === 'GET') return void res.writeHead(405).end();
      // DELETE: never answered.
    });
    backend.send(INITIALIZE);
    await eventually(() => upstream.received.length > 0, 'initialize did not arrive');
    const started = Date.now();
    await backend.close();
    expect(upstream.received.some((r) => r.method === 'DELETE')).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
