import { request, type IncomingHttpHeaders } from 'node:http';
/** Plain HTTP against /{server}/mcp, for what the SDK client would never send. */
export const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

export const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

export async function rawPost(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Headers; json: unknown; text: string }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Opens a session with a raw initialize; returns its id. */
export async function rawInitialize(url: string, authorization: string): Promise<string> {
  const res = await rawPost(url, JSON.stringify(INIT), { ...JSON_HEADERS, authorization });
  const id = res.headers.get('mcp-session-id');
  if (res.status !== 200 || !id) throw new Error(`initialize failed: ${res.status} ${res.text}`);
  return id;
}

export async function rawDelete(url: string, authorization: string, sessionId: string): Promise<number> {
  const res = await fetch(url, { method: 'DELETE', headers: { authorization, 'mcp-session-id': sessionId } });
  await res.arrayBuffer();
  return res.status;
}

/** One HTTP exchange with what fetch will not send: a Host of our choosing, a source address of our choosing. */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string },
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, localAddress: options.localAddress }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.once('error', reject);
    req.end(options.body);
  });
}
