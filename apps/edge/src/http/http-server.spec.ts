import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { httpServer, listenAlsoOn, otherLoopbacks } from './http-server.js';

const OPTIONS = { keepAliveTimeout: 72_000, requestTimeout: 60_000, connectionTimeout: 0 };

async function listening(server: Server, host: string): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

describe('listenAlsoOn', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('answers on every loopback address of localhost with the one listener, and skips one it cannot bind', async () => {
    const make = () => httpServer(OPTIONS, (req, res) => res.end(`answered ${req.url ?? ''}`));
    const main = make();
    servers.push(main);
    const port = await listening(main, '127.0.0.1');
    const others = otherLoopbacks(main, [{ address: '127.0.0.1' }, { address: '::1' }, { address: '192.0.2.1' }]);
    expect(others).toEqual(['::1', '192.0.2.1']);
    // 192.0.2.1 (TEST-NET-1) is no address of this host: skipped, as Fastify skips it.
    const extra = await listenAlsoOn(others, port, make);
    servers.push(...extra);
    expect(extra).toHaveLength(1);
    for (const host of ['127.0.0.1', '[::1]']) {
      expect(await (await fetch(`http://${host}:${port}/x`)).text()).toBe('answered /x');
    }
    expect(extra[0]?.maxHeadersCount).toBe(101);
  });
});
