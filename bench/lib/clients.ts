import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { childProcessBaseEnvironment } from '#config';
import type { BackendCommand } from '../fixtures/backends.js';

/** A connected MCP SDK client: the same client for every path measured. */
export type Connect = () => Promise<Client>;

function client(): Client {
  return new Client({ name: 'gatehouse-bench', version: '1.0.0' });
}

/**
 * Spawns the backend and speaks stdio to it: the floor. The backend gets the environment Gatehouse
 * gives its backends, so both start the same process (NODE_EXTRA_CA_CERTS, for one, costs a
 * Node.js backend tens of milliseconds at start-up when it names a large bundle).
 */
export function directStdio(backend: BackendCommand): Connect {
  return async () => {
    const c = client();
    const env = childProcessBaseEnvironment();
    await c.connect(new StdioClientTransport({ command: backend.command, args: backend.args, env, stderr: 'ignore' }));
    return c;
  };
}

/** Streamable HTTP to `url`, with an Authorization header when given. */
export function streamableHttp(url: string, authorization?: string): Connect {
  return async () => {
    const c = client();
    const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
    await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
    return c;
  };
}

/** Ends the session (DELETE over HTTP, the process over stdio) and closes the client. */
export async function disconnect(c: Client): Promise<void> {
  const transport = c.transport;
  if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => undefined);
  await c.close().catch(() => undefined);
}
