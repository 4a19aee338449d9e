import { createServer, type Server, type ServerResponse } from 'node:http';
import type { JsonRpcMessage, RequestId } from '#contracts';
import { PostExchange } from './post-exchange.js';

let server: Server;
let url = '';
let handle: (res: ServerResponse) => void = () => undefined;

beforeAll(async () => {
  server = createServer((_req, res) => handle(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  url = `http://127.0.0.1:${address.port}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** POSTs to the server, lets `drive` answer through a PostExchange, and returns what the client got. */
async function exchange<T>(drive: (res: ServerResponse) => T) {
  let driven: T | undefined;
  handle = (res) => {
    driven = drive(res);
  };
  const response = await fetch(url, { method: 'POST' });
  const body = await response.text();
  return { status: response.status, headers: response.headers, body, driven };
}

/** The `message` events of an SSE body, as parsed JSON; any other event fails the test. */
function sseMessages(body: string): unknown[] {
  return body
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const [event, data] = block.split('\n');
      expect(event).toBe('event: message');
      return JSON.parse(data?.replace(/^data: /, '') ?? '') as unknown;
    });
}

const request = (id: RequestId): JsonRpcMessage => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 't' } });
const result = (id: RequestId): JsonRpcMessage => ({ jsonrpc: '2.0', id, result: { content: [] } });
const progress: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p', progress: 1 } };
const both = { json: true, sse: true, headers: { 'x-gatehouse': 'yes' } };

describe('PostExchange', () => {
  it('answers 202 once every request was cancelled, and the rest when some were answered', async () => {
    const cancelled = await exchange((res) => {
      const post = new PostExchange('s1', res, [request(1)], { batch: false, ...both });
      post.cancel(1);
      return post.isDone;
    });
    expect(cancelled.status).toBe(202);
    expect(cancelled.driven).toBe(true);
    const partly = await exchange((res) => {
      const post = new PostExchange('s1', res, [request(1), request(2)], { batch: true, ...both });
      post.write(result(2));
      post.cancel(1);
    });
    expect(JSON.parse(partly.body)).toEqual([result(2)]);
  });

  it('answers with JSON when only the response arrives', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange('s1', res, [request(1)], { batch: false, ...both });
      const finished = post.finished();
      return { wrote: post.write(result(1)), finished, done: post.isDone };
    });
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/json');
    expect(got.headers.get('x-gatehouse')).toBe('yes');
    expect(JSON.parse(got.body)).toEqual(result(1));
    expect(got.driven).toMatchObject({ wrote: true, done: true });
    await expect(got.driven?.finished).resolves.toBeUndefined();
  });

  it('answers a batch with an array, once every request has its response', async () => {
    const got = await exchange((res) => {
      const notification: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 9 } };
      const post = new PostExchange('s1', res, [request(1), notification, request(2)], { batch: true, ...both });
      post.write(result(2));
      const doneEarly = post.isDone;
      post.write(result(1));
      return doneEarly;
    });
    expect(got.driven).toBe(false);
    expect(JSON.parse(got.body)).toEqual([result(2), result(1)]);
  });

  it('switches to SSE when a notification arrives before the response', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange('s1', res, [request(1)], { batch: false, ...both });
      return [post.write(progress), post.write(result(1))];
    });
    expect(got.driven).toEqual([true, true]);
    expect(got.headers.get('content-type')).toBe('text/event-stream');
    expect(got.headers.get('x-gatehouse')).toBe('yes');
    expect(sseMessages(got.body)).toEqual([progress, result(1)]);
  });

  it('flushes responses collected before the switch to SSE first', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange('s1', res, [request(1), request(2)], { batch: true, ...both });
      post.write(result(1));
      post.write(progress);
      post.write(result(2));
    });
    expect(sseMessages(got.body)).toEqual([result(1), progress, result(2)]);
  });

  it('streams from the start when the client accepts only SSE', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange('s1', res, [request(1)], { batch: false, json: false, sse: true, headers: {} });
      post.write(result(1));
    });
    expect(got.headers.get('content-type')).toBe('text/event-stream');
    expect(sseMessages(got.body)).toEqual([result(1)]);
  });

  it('gives each pending request a JSON-RPC error when the session ends', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange('s1', res, [request(1), request(2), request(3)], { batch: true, ...both });
      post.write(result(2));
      post.sessionEnded('idle timeout');
      return post.isDone;
    });
    const error = (id: number) => ({ jsonrpc: '2.0', id, error: { code: -32000, message: 'Session ended: idle timeout' } });
    expect(got.driven).toBe(true);
    expect(JSON.parse(got.body)).toEqual([result(2), error(1), error(3)]);
  });

  it('sends the session-ended errors as events once streaming', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange('s1', res, [request('a')], { batch: false, ...both });
      post.write(progress);
      post.sessionEnded('backend exited');
    });
    expect(sseMessages(got.body)).toEqual([
      progress,
      { jsonrpc: '2.0', id: 'a', error: { code: -32000, message: 'Session ended: backend exited' } },
    ]);
  });

  it('refuses a notification when the client accepts only JSON', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange('s1', res, [request(1)], { batch: false, json: true, sse: false, headers: {} });
      return [post.write(progress), post.write(result(1))];
    });
    expect(got.driven).toEqual([false, true]);
    expect(got.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(got.body)).toEqual(result(1));
  });

  it('refuses anything written after it is done', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange('s1', res, [request(1)], { batch: false, ...both });
      post.write(result(1));
      return [post.write(progress), post.write(result(1))];
    });
    expect(got.driven).toEqual([false, false]);
    expect(JSON.parse(got.body)).toEqual(result(1));
  });
});
