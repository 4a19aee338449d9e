import { createServer, type Server } from 'node:http';
import { boundedFetch, OutboundFailure } from './bounded-fetch.js';

describe('boundedFetch', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/small') return void res.end('{"ok":true}');
      if (req.url === '/declared-large') return void res.writeHead(200, { 'content-length': '5000' }).end('x'.repeat(5000));
      if (req.url === '/streamed-large') {
        res.writeHead(200);
        for (let i = 0; i < 10; i++) res.write('y'.repeat(1000));
        return void res.end();
      }
      if (req.url === '/redirect') return void res.writeHead(302, { location: '/small' }).end();
      // /hang: headers, then nothing.
      res.writeHead(200);
      res.write('{');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    base = typeof address === 'object' && address !== null ? `http://127.0.0.1:${address.port}` : '';
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const fetch = boundedFetch({ timeoutMs: 500, maxBytes: 4096 });

  it('returns an answer within the limits, and a redirect as it is (not followed)', async () => {
    expect(await (await fetch(`${base}/small`)).json()).toEqual({ ok: true });
    const redirect = await fetch(`${base}/redirect`);
    expect(redirect.status).toBe(302);
  });

  it('fails on a body over the limit, declared or streamed', async () => {
    await expect(fetch(`${base}/declared-large`)).rejects.toThrow(new OutboundFailure('answered with more than 4096 bytes'));
    await expect(fetch(`${base}/streamed-large`)).rejects.toThrow(new OutboundFailure('answered with more than 4096 bytes'));
  });

  it('fails when the answer does not finish in time, and when nothing listens', async () => {
    await expect(fetch(`${base}/hang`)).rejects.toThrow(new OutboundFailure('no answer within 0.5 s'));
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    await new Promise((resolve) => closed.close(resolve));
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow(new OutboundFailure('could not be reached (ECONNREFUSED)'));
  });
});
