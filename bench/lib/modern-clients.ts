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
