import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';

export interface Connected {
  client: Client;
  transport: StreamableHTTPClientTransport | SSEClientTransport;
  sampled: string[];
}

function makeClient(): { client: Client; sampled: string[] } {
  const client = new Client({ name: 'e2e', version: '1.0.0' }, { capabilities: { sampling: {} } });
  const sampled: string[] = [];
  client.setRequestHandler(CreateMessageRequestSchema, (request) => {
    sampled.push(JSON.stringify(request.params.messages));
    return { model: 'e2e-model', role: 'assistant', content: { type: 'text', text: 'sampled by the e2e client' } };
  });
  return { client, sampled };
}

/** The real SDK client over streamable HTTP, authenticated with `authorization`. */
export async function connectStreamable(
  url: string,
  authorization: string,
): Promise<Connected & { transport: StreamableHTTPClientTransport }> {
  const { client, sampled } = makeClient();
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization } } });
  await client.connect(transport);
  return { client, transport, sampled };
}

/** The real SDK client over legacy HTTP+SSE. */
export async function connectSse(url: string, authorization: string): Promise<Connected & { transport: SSEClientTransport }> {
  const { client, sampled } = makeClient();
  const transport = new SSEClientTransport(new URL(url), { requestInit: { headers: { authorization } } });
  await client.connect(transport);
  return { client, transport, sampled };
}

export function bearer(token: string): string {
  return `Bearer ${token}`;
}

export function textOf(result: unknown): string {
  if (typeof result !== 'object' || result === null || !('content' in result) || !Array.isArray(result.content)) return '';
  return result.content.map((c: unknown) => (typeof c === 'object' && c !== null && 'text' in c ? String(c.text) : '')).join('');
}
