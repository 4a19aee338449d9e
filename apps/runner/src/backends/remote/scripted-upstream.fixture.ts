import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { JsonRpcMessage } from '#contracts';
import { createLogger } from '#observability';
import { PassThrough } from 'node:stream';

/** One request the scripted upstream received. */
export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body of a POST. */
  message: (JsonRpcMessage & { id?: string | number; method?: string }) | undefined;
}

export type Script = (request: Received, res: ServerResponse, req: IncomingMessage) => void;

/** A plain HTTP server answering as `script` says: an upstream that misbehaves exactly as a test needs. */
export async function scriptedUpstream(script: Script): Promise<{ url: URL; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const message = body === '' ? undefined : (JSON.parse(body) as Received['message']);
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, message };
      received.push(request);
      script(request, res, req);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the scripted upstream has no port');
  return {
    url: new URL(`http://127.0.0.1:${address.port}/mcp`),
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** A logger whose lines a test can read. */
export function capturedLogger(): { log: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const output = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  output.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { log: createLogger({ service: 'test', destination: output, level: 'debug' }), lines };
}
