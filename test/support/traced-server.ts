import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INIT, rawPost } from './raw-mcp.js';

const META_ECHO = fileURLToPath(new URL('../fixtures/meta-echo-server.js', import.meta.url));
export const TOKEN = 'tracing-token-0123456789abcdef';
export const AUTHORIZATION = `Bearer ${TOKEN}`;
export const HEADERS = { 'content-type': 'application/json', accept: 'application/json', authorization: AUTHORIZATION };
export const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

/** A config with one stdio server, `traced`, whose tool `meta` answers with the `_meta` it received. */
export function writeConfig(runnerGroup: string): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-tracing-'));
  const config = {
    version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
    proxy: { baseURL: 'http://127.0.0.1:8080', addr: '127.0.0.1:8080', name: 'tracing-e2e' },
    mcpServers: {
      traced: {
        transportType: 'stdio',
        command: process.execPath,
        args: [META_ECHO],
        serviceAuths: [{ type: 'bearer', tokens: [TOKEN] }],
        runnerGroup,
      },
    },
  };
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config));
  return { path, dir };
}

/** A random W3C trace id, span id and the traceparent of a sampled client span with them. */
export function clientTrace(): { traceId: string; spanId: string; traceparent: string } {
  const hex = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
  const traceId = hex(16);
  const spanId = hex(8);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** Opens a 2025-11-25 session; returns its id. */
export async function initialize(url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await rawPost(url, JSON.stringify(INIT), { ...HEADERS, ...headers });
  const sessionId = res.headers.get('mcp-session-id');
  if (res.status !== 200 || !sessionId) throw new Error(`initialize failed: ${res.status} ${res.text}`);
  return sessionId;
}

/** Calls `meta` in the session; resolves with the `_meta` the backend received. */
export async function callMeta(url: string, sessionId: string, meta?: Record<string, unknown>, headers: Record<string, string> = {}) {
  const call = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'meta', arguments: { note: 'argument-never-traced' } } };
  const body = meta ? { ...call, params: { ...call.params, _meta: meta } } : call;
  const res = await rawPost(url, JSON.stringify(body), {
    ...HEADERS,
    'mcp-session-id': sessionId,
    'mcp-protocol-version': '2025-11-25',
    ...headers,
  });
  if (res.status !== 200) throw new Error(`tools/call failed: ${res.status} ${res.text}`);
  return received(res.json);
}

export function received(response: unknown): Record<string, unknown> | null {
  const text = (response as { result?: { content?: { text?: string }[] } }).result?.content?.[0]?.text;
  return JSON.parse(text ?? 'undefined') as Record<string, unknown> | null;
}
