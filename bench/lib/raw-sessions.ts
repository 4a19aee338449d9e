import { Agent, request, type ClientRequest, type OutgoingHttpHeaders } from 'node:http';
import type { Caller } from './load.js';

const PROTOCOL = '2025-06-18';
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'gatehouse-bench', version: '1' } },
};

/** Opens a streamable-HTTP session with plain HTTP (initialize, then initialized); its id. No `authorization` for a gateway without auth. */
export async function openSession(mcpUrl: string, authorization?: string): Promise<string> {
  const auth: Record<string, string> = authorization === undefined ? {} : { authorization };
  const res = await fetch(mcpUrl, { method: 'POST', headers: { ...JSON_HEADERS, ...auth }, body: JSON.stringify(INITIALIZE) });
  const sessionId = res.headers.get('mcp-session-id');
  await res.text();
  if (res.status !== 200 || !sessionId) throw new Error(`initialize answered ${res.status}`);
  const initialized = await fetch(mcpUrl, {
    method: 'POST',
    headers: { ...JSON_HEADERS, ...auth, 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await initialized.text();
  return sessionId;
}

/**
 * Calls `echo` in an open session, one plain POST at a time over a kept-alive connection of its own.
 * node:http costs the load a fraction of what the SDK client or fetch cost a call, which lets the
 * pinned runs saturate the gateway's core rather than the load's. Closing it closes the connection;
 * the session stays open (the gateway's stop ends it).
 */
export function echoCaller(mcpUrl: string, authorization: string | undefined, sessionId: string): Caller {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(mcpUrl);
  const headers: OutgoingHttpHeaders = { ...JSON_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL };
  if (authorization !== undefined) headers.authorization = authorization;
  let nextId = 1;
  const call = () =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: ++nextId,
        method: 'tools/call',
        params: { name: 'echo', arguments: { message: 'ping' } },
      });
      const options = { hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent };
      const req = request({ ...options, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          // An answer as JSON or as an event stream: either way it carries the echo.
          if (res.statusCode === 200 && text.includes('Echo: ping')) resolve();
          else reject(new Error(`echo answered ${res.statusCode}: ${text.slice(0, 200)}`));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  return { call, close: () => Promise.resolve(agent.destroy()) };
}

/** Holds a GET stream of a session open, on a connection of its own; resolves once the edge answered 200. */
export function openGetStream(mcpUrl: string, authorization: string, sessionId: string): Promise<ClientRequest> {
  const headers = { accept: 'text/event-stream', authorization, 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL };
  return openStream(mcpUrl, headers, () => undefined);
}

/** Opens a legacy SSE session: the stream, then initialize posted to the endpoint it names, answered on the stream. */
export async function openLegacySession(sseUrl: string, authorization: string): Promise<ClientRequest> {
  let endpoint: (path: string) => void = () => undefined;
  let answered: () => void = () => undefined;
  const endpointPath = new Promise<string>((resolve) => (endpoint = resolve));
  const initialized = new Promise<void>((resolve) => (answered = resolve));
  let text = '';
  const stream = await openStream(sseUrl, { accept: 'text/event-stream', authorization }, (chunk) => {
    text += chunk;
    const path = /event: endpoint\ndata: (\S+)/.exec(text)?.[1];
    if (path) endpoint(path);
    if (/"id":\s*1[,}]/.test(text) && text.includes('"result"')) answered();
  });
  const messageUrl = new URL(await endpointPath, sseUrl).href;
  const post = (body: unknown) =>
    fetch(messageUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body) }).then(
      (r) => r.text(),
    );
  await post(INITIALIZE);
  await initialized;
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return stream;
}

function openStream(url: string, headers: Record<string, string>, onData: (chunk: string) => void): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers, agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET ${url} answered ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', onData);
      res.on('error', () => undefined);
      resolve(req);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs `work` for each index with at most `parallel` at a time. */
export async function inParallel<T>(count: number, parallel: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await work(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return results;
}
