import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { ClientMetadataDocuments, ClientMetadataError, type ClientMetadataDocumentsOptions } from './client-metadata-document.js';

/** Test support for the client metadata document specs: a real HTTP server on 127.0.0.1 and helpers around it. */

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface ServedRoute {
  /** The route's URL, which is the client_id of the document it serves. */
  clientId: string;
  /** How many requests the route has had. */
  hits: () => number;
}

/** An HTTP server whose every route is a fresh path with its own handler and request counter. */
export class DocumentServer {
  private readonly routes = new Map<string, Handler>();
  private readonly hitsByPath = new Map<string, number>();
  private readonly server = http.createServer((req, res) => this.answer(req, res));
  private paths = 0;
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('server has no port');
    this.port = address.port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }

  /** A new route answered by `handler`, addressed by `host` (which must reach 127.0.0.1). */
  route(handler: Handler, host = '127.0.0.1'): ServedRoute {
    this.paths += 1;
    const path = `/clients/${this.paths}/metadata.json`;
    this.routes.set(path, handler);
    return { clientId: `http://${host}:${this.port}${path}`, hits: () => this.hitsByPath.get(path) ?? 0 };
  }

  /** A route serving a valid document for itself, with extra headers and fields. */
  documentRoute(headers: OutgoingHttpHeaders = {}, fields: Record<string, unknown> = {}, host = '127.0.0.1'): ServedRoute {
    let clientId = '';
    const served = this.route((_req, res) => sendJson(res, metadata(clientId, fields), headers), host);
    clientId = served.clientId;
    return served;
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    this.hitsByPath.set(path, (this.hitsByPath.get(path) ?? 0) + 1);
    // The client hangs up on purpose in several specs; writing after that must not crash the server.
    res.on('error', () => undefined);
    const handler = this.routes.get(path);
    if (handler === undefined) res.writeHead(404).end();
    else handler(req, res);
  }
}

export function metadata(clientId: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { client_id: clientId, client_name: 'Local Client', redirect_uris: ['http://127.0.0.1/callback'], ...fields };
}

export function sendJson(res: ServerResponse, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
}

/** Dev mode (http on loopback allowed), failures not remembered unless asked. */
export function devDocuments(options: Partial<ClientMetadataDocumentsOptions> = {}): ClientMetadataDocuments {
  return new ClientMetadataDocuments({ devMode: true, failureCacheMs: 0, ...options });
}

/** The message of the ClientMetadataError that resolving `clientId` fails with. */
export async function refusal(documents: ClientMetadataDocuments, clientId: string): Promise<string> {
  const outcome = await documents.resolve(clientId).then(
    () => new Error('the document was accepted'),
    (err: unknown) => err,
  );
  if (outcome instanceof ClientMetadataError) return outcome.message;
  throw outcome;
}

/** A resolver answering every name with `addresses`, recording the names asked for. */
export function fixedLookup(addresses: LookupAddress[], asked: string[] = []): LookupFunction {
  return (hostname, _options, callback) => {
    asked.push(hostname);
    callback(null, addresses);
  };
}

export function testClock(): { now: () => number; advance: (ms: number) => number } {
  let time = Date.now();
  return { now: () => time, advance: (ms: number) => (time += ms) };
}
