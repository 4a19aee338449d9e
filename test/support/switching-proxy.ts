import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A load balancer of one: forwards every request to the current target, streaming both ways,
 * and cuts the client off when the target goes away mid-answer (as a real one would).
 */
export class SwitchingProxy {
  private readonly server: Server;
  private readonly open = new Set<ServerResponse>();

  private constructor(
    private target: string,
    readonly url: string,
    server: Server,
  ) {
    this.server = server;
  }

  static async start(target: string): Promise<SwitchingProxy> {
    const held: { proxy?: SwitchingProxy } = {};
    const server = createServer((req, res) => held.proxy?.forward(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
    held.proxy = new SwitchingProxy(target, `http://127.0.0.1:${address.port}`, server);
    return held.proxy;
  }

  /** Sends the next requests to `target`; answers in progress go on until their target ends them. */
  switchTo(target: string): void {
    this.target = target;
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const target = new URL(req.url ?? '/', this.target);
    this.open.add(res);
    res.once('close', () => this.open.delete(res));
    const upstream = request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.once('error', () => res.destroy());
      answer.once('aborted', () => res.destroy());
    });
    upstream.once('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(upstream);
  }
}
