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

/** The events of an SSE body: each one's fields (`id`, `event`, `retry`, `data`). */
function sseEvents(body: string): Record<string, string>[] {
  return body
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) =>
      Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)])),
    );
}

/** The `message` events of an SSE body, as parsed JSON; any other event fails the test. */
function sseMessages(body: string): unknown[] {
  return sseEvents(body).map((event) => {
    expect(event.event).toBe('message');
    return JSON.parse(event.data ?? '') as unknown;
  });
}

const request = (id: RequestId): JsonRpcMessage => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 't' } });
const result = (id: RequestId): JsonRpcMessage => ({ jsonrpc: '2.0', id, result: { content: [] } });
const progress: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p', progress: 1 } };
const both = { json: true, sse: true, headers: { 'x-gatehouse': 'yes' }, primeKey: undefined };

describe('PostExchange', () => {
  it('answers 202 when the runner ends the stream with nothing answered (every request cancelled)', async () => {
    const cancelled = await exchange((res) => {
      const post = new PostExchange(res, [request(1)], { batch: false, ...both });
      post.end();
      return post.isDone;
    });
    expect(cancelled.status).toBe(202);
    expect(cancelled.driven).toBe(true);
  });

  it('answers with JSON what arrived before the end, and nothing after', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange(res, [request(1)], { batch: false, ...both });
      const finished = post.finished();
      const wrote = post.write(result(1), 'k.1');
      const doneBeforeEnd = post.isDone;
      post.end();
      return { wrote, finished, doneBeforeEnd, late: post.write(progress, undefined) };
    });
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/json');
    expect(got.headers.get('x-gatehouse')).toBe('yes');
    expect(JSON.parse(got.body)).toEqual(result(1));
    expect(got.driven).toMatchObject({ wrote: true, doneBeforeEnd: false, late: false });
    await expect(got.driven?.finished).resolves.toBeUndefined();
  });

  it('answers a batch with an array of what arrived, in order', async () => {
    const got = await exchange((res) => {
      const notification: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 9 } };
      const post = new PostExchange(res, [request(1), notification, request(2)], { batch: true, ...both });
      post.write(result(2), undefined);
      post.write(result(1), undefined);
      post.end();
    });
    expect(JSON.parse(got.body)).toEqual([result(2), result(1)]);
  });

  it('switches to SSE when a notification arrives before the response, with event ids', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange(res, [request(1)], { batch: false, ...both });
      const wrote = [post.write(progress, 'k.1'), post.write(result(1), 'k.2')];
      post.end();
      return wrote;
    });
    expect(got.driven).toEqual([true, true]);
    expect(got.headers.get('content-type')).toBe('text/event-stream');
    expect(got.headers.get('x-gatehouse')).toBe('yes');
    expect(sseMessages(got.body)).toEqual([progress, result(1)]);
    expect(sseEvents(got.body).map((e) => e.id)).toEqual(['k.1', 'k.2']);
  });

  it('primes a resumable stream with an event id at position 0 and the reconnection delay', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange(res, [request(1)], { ...both, batch: false, json: false, primeKey: 'key1' });
      post.write(result(1), 'key1.1');
      post.end();
    });
    const [priming, ...rest] = sseEvents(got.body);
    expect(priming).toEqual({ id: 'key1.0', retry: '1000', data: '' });
    expect(rest).toEqual([{ id: 'key1.1', event: 'message', data: JSON.stringify(result(1)) }]);
  });

  it('flushes responses collected before the switch to SSE first, after the priming event', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange(res, [request(1), request(2)], { ...both, batch: true, primeKey: 'key2' });
      post.write(result(1), 'key2.1');
      post.write(progress, 'key2.2');
      post.write(result(2), 'key2.3');
      post.end();
    });
    expect(sseEvents(got.body).map((e) => e.id)).toEqual(['key2.0', 'key2.1', 'key2.2', 'key2.3']);
    expect(sseMessages(got.body.slice(got.body.indexOf('\n\n') + 2))).toEqual([result(1), progress, result(2)]);
  });

  it('answers a call settled within streamAfterMs with JSON', async () => {
    const got = await exchange(async (res) => {
      const post = new PostExchange(res, [request(1)], { ...both, batch: false, primeKey: 'key3', streamAfterMs: 200 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      post.write(result(1), 'key3.1');
      post.end();
    });
    expect(got.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(got.body)).toEqual(result(1));
  });

  it('turns a call unanswered after streamAfterMs into a primed event stream, the priming event first', async () => {
    const got = await exchange(async (res) => {
      const post = new PostExchange(res, [request(1)], { ...both, batch: false, primeKey: 'key4', streamAfterMs: 10 });
      await new Promise((resolve) => setTimeout(resolve, 60));
      post.write(result(1), 'key4.1');
      post.end();
    });
    expect(got.headers.get('content-type')).toBe('text/event-stream');
    expect(got.headers.get('x-gatehouse')).toBe('yes');
    expect(sseEvents(got.body)).toEqual([
      { id: 'key4.0', retry: '1000', data: '' },
      { id: 'key4.1', event: 'message', data: JSON.stringify(result(1)) },
    ]);
  });

  it('streams from the start when the client accepts only SSE', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange(res, [request(1)], { ...both, batch: false, json: false });
      post.write(result(1), undefined);
      post.end();
    });
    expect(got.headers.get('content-type')).toBe('text/event-stream');
    expect(sseMessages(got.body)).toEqual([result(1)]);
  });

  it('gives each request still unanswered a JSON-RPC error when the session ends', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange(res, [request(1), request(2), request(3)], { batch: true, ...both });
      post.write(result(2), undefined);
      post.sessionEnded('idle timeout');
      return post.isDone;
    });
    const error = (id: number) => ({ jsonrpc: '2.0', id, error: { code: -32000, message: 'Session ended: idle timeout' } });
    expect(got.driven).toBe(true);
    expect(JSON.parse(got.body)).toEqual([result(2), error(1), error(3)]);
  });

  it('sends the session-ended errors as events once streaming', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange(res, [request('a')], { batch: false, ...both });
      post.write(progress, undefined);
      post.sessionEnded('backend exited');
    });
    expect(sseMessages(got.body)).toEqual([
      progress,
      { jsonrpc: '2.0', id: 'a', error: { code: -32000, message: 'Session ended: backend exited' } },
    ]);
  });

  it('refuses a notification when the client accepts only JSON', async () => {
    const got = await exchange((res) => {
      const post = new PostExchange(res, [request(1)], { ...both, batch: false, sse: false, headers: {} });
      const wrote = [post.write(progress, undefined), post.write(result(1), undefined)];
      post.end();
      return wrote;
    });
    expect(got.driven).toEqual([false, true]);
    expect(got.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(got.body)).toEqual(result(1));
  });
});

describe('PostExchange metering', () => {
  const error = (id: RequestId): JsonRpcMessage => ({ jsonrpc: '2.0', id, error: { code: -32602, message: 'bad' } });

  it('counts each request once: answered ok or error, failed, cancelled or abandoned; withdrawn ones not at all', async () => {
    const counted: string[] = [];
    const meter = (method: string, outcome: string) => counted.push(`${method} ${outcome}`);
    await exchange((res) => {
      const post = new PostExchange(res, [request(1), request(2), request(3)], { batch: true, ...both, meter });
      post.write(result(1), undefined);
      post.write(result(1), undefined);
      post.write(error(2), undefined);
      post.end();
    });
    expect(counted).toEqual(['tools/call ok', 'tools/call error', 'tools/call cancelled']);
    counted.length = 0;
    await exchange((res) => {
      const post = new PostExchange(res, [request(1)], { batch: false, ...both, meter });
      post.fail('the runner is gone');
    });
    expect(counted).toEqual(['tools/call error']);
    counted.length = 0;
    await exchange((res) => {
      const post = new PostExchange(res, [request(1)], { batch: false, ...both, meter });
      post.abandon();
      res.end();
    });
    await exchange((res) => {
      const post = new PostExchange(res, [request(1)], { batch: false, ...both, meter });
      post.withdraw();
      res.end();
    });
    expect(counted).toEqual(['tools/call cancelled']);
  });
});
