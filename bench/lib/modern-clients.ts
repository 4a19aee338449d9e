/**
 * MCP revision 2026-07-28 callers of `echo`: the SDK v2 client pinned to that revision, and raw
 * `fetch` POSTs (keep-alive: Node's fetch pools its connections) carrying what the revision asks
 * for on every request, `_meta` and the MCP-Protocol-Version, Mcp-Method and Mcp-Name headers.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Caller } from './load.js';

export const MODERN = '2026-07-28';

const ECHO_ARGUMENTS = { message: 'ping' };

/**
 * The SDK v2 client, pinned: `connect()` sends `server/discover` (its first request) and fails unless
 * the server offers 2026-07-28. It declares no capabilities: `echo` asks the client for nothing.
 */
export async function connectSdkModern(url: string, authorization: string): Promise<Caller & { client: Client }> {
  const client = new Client({ name: 'gatehouse-bench', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization } } }));
  return {
    client,
    call: () => client.callTool({ name: 'echo', arguments: ECHO_ARGUMENTS }),
    close: () => client.close().catch(() => undefined),
  };
}

/** The `_meta` every 2026-07-28 request carries (basic/index#meta). */
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'gatehouse-bench-raw', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** Raw POSTs of `tools/call echo`: one request, one JSON (or SSE) answer read to its end, checked. */
export function rawModern(url: string, authorization: string): Caller {
  let id = 0;
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    authorization,
    'mcp-protocol-version': MODERN,
    'mcp-method': 'tools/call',
    'mcp-name': 'echo',
  };
  return {
    call: async () => {
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: ++id,
        method: 'tools/call',
        params: { name: 'echo', arguments: ECHO_ARGUMENTS, _meta: META },
      });
      const res = await fetch(url, { method: 'POST', headers, body });
      const text = await res.text();
      if (res.status !== 200 || !text.includes('Echo: ping')) throw new Error(`tools/call answered ${res.status}: ${text.slice(0, 200)}`);
    },
    close: () => Promise.resolve(),
  };
}
