import type { ServerResponse } from 'node:http';
import type { JsonRpcMessage } from '#contracts';
import { eventually } from '#testing';
import { capturedLogger, scriptedUpstream, type Script } from './scripted-upstream.fixture.js';
import { SseBackend } from './sse.backend.js';

const context = { sessionId: 'session-1', sub: 'alice', server: 'legacy' };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A legacy SSE upstream whose stream the test writes to, and a backend connected to it. */
async function connect(onPost: Script, streamPath = '/mcp', maxMessageBytes = 4096) {
  let stream: ServerResponse | undefined;
  const upstream = await scriptedUpstream((request, res, req) => {
    if (request.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      stream = res;
      return;
    }
    onPost(request, res, req);
  });
  const { log } = capturedLogger();
  const url = new URL(streamPath, upstream.url);
  const backend = new SseBackend({ url, headers: { 'X-Key': 'configured' }, timeoutMs: 2000, maxMessageBytes, log, context });
  const emitted: JsonRpcMessage[] = [];
  let ended: string | undefined;
  backend.onmessage = (m) => emitted.push(m);
  backend.onclose = (reason) => (ended = reason);
  cleanups.push(
    () => upstream.close(),
    () => backend.close(),
  );
  const write = async (text: string) => {
    await eventually(() => stream !== undefined, 'the event stream was not opened');
    stream?.write(text);
  };
  return { backend, upstream, emitted, write, endedWith: () => ended, closeStream: () => stream?.end() };
}

const accept: Script = (_request, res) => void res.writeHead(202).end('Accepted');

describe('SseBackend', () => {
  it.each([
    ['a relative endpoint', '/messages?sessionId=abc', '/messages?sessionId=abc'],
    ['an endpoint relative to the stream path', 'messages?sessionId=abc', '/sse/messages?sessionId=abc'],
    ['an absolute endpoint on the same origin', 'ORIGIN/post/here?s=1', '/post/here?s=1'],
  ])('resolves %s against url and POSTs there with the configured headers', async (_what, named, path) => {
    const { backend, upstream, write, emitted } = await connect(accept, '/sse/stream');
    const starting = backend.start();
    await write(`event: endpoint\ndata: ${named.replace('ORIGIN', upstream.url.origin)}\n\n`);
    await starting;
    backend.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    await eventually(() => upstream.received.some((r) => r.method === 'POST'), 'nothing was posted');
    const posted = upstream.received.find((r) => r.method === 'POST');
    expect(posted?.path).toBe(path);
    expect(posted?.headers['x-key']).toBe('configured');
    await write(`event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n`);
    await eventually(() => emitted.length === 1, 'the answer on the stream was not relayed');
  });

  it('refuses an endpoint on another origin', async () => {
    const { backend, write } = await connect(accept);
    const starting = backend.start();
    await write('event: endpoint\ndata: https://elsewhere.example/messages\n\n');
    await expect(starting).rejects.toThrow(/named a message endpoint on another origin \(https:\/\/elsewhere\.example\)/);
  });

  it('ends the session when the upstream closes its stream or forgets the session (404)', async () => {
    for (const ending of ['close', '404'] as const) {
      const { backend, upstream, write, endedWith, closeStream } = await connect((_request, res) => void res.writeHead(404).end());
      const starting = backend.start();
      await write('event: endpoint\ndata: /messages\n\n');
      await starting;
      if (ending === 'close') closeStream();
      else backend.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      await eventually(() => endedWith() !== undefined, 'the session did not end');
      const reason = ending === 'close' ? 'closed its event stream' : 'ended its session (HTTP 404)';
      expect(endedWith()).toBe(`upstream "legacy" (${upstream.url.origin}) ${reason}`);
    }
  });

  it('ends the session on an event over maxMessageBytes', async () => {
    const { backend, upstream, write, endedWith } = await connect(accept, '/mcp', 1024);
    const starting = backend.start();
    await write('event: endpoint\ndata: /messages\n\n');
    await starting;
    await write(`event: message\ndata: ${'x'.repeat(3000)}\n\n`);
    await eventually(() => endedWith() !== undefined, 'the session did not end');
    expect(endedWith()).toBe(`upstream "legacy" (${upstream.url.origin}) sent a message larger than 1024 bytes`);
  });

  it('refuses an answer that is not an event stream, and a refused credential', async () => {
    for (const [status, type, message] of [
      [200, 'text/html', 'did not answer with an event stream (content type text/html)'],
      [403, 'application/json', "refused the gateway's credentials (HTTP 403)"],
    ] as const) {
      const upstream = await scriptedUpstream((_request, res) => void res.writeHead(status, { 'content-type': type }).end('{}'));
      cleanups.push(() => upstream.close());
      const backend = new SseBackend({
        url: upstream.url,
        headers: {},
        timeoutMs: 2000,
        maxMessageBytes: 4096,
        log: capturedLogger().log,
        context,
      });
      await expect(backend.start()).rejects.toThrow(message);
      await backend.close();
    }
  });
});
