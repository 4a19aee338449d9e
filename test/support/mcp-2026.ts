import { Client, StreamableHTTPClientTransport, type FetchLike } from '@modelcontextprotocol/client';
import { JSON_HEADERS } from './raw-mcp.js';
import { messagesOf, readEvents } from './sse-events.js';

/**
 * MCP revision 2026-07-28 from the client side: the real SDK v2 client pinned to that revision,
 * a log of what crossed the wire, and raw POSTs for what the SDK would never send.
 */
export const MODERN = '2026-07-28';

/** What the e2e client declares, per request, in `_meta`: it answers all three kinds of input request. */
export const CLIENT_CAPABILITIES = { sampling: {}, elicitation: { form: {} }, roots: {} };

/** The answers the client's handlers give, so a spec can find them in a tool's result. */
export const ANSWERS = {
  sampled: 'sampled by the 2026 e2e client',
  elicitedName: 'Ada Lovelace',
  root: { uri: 'file:///e2e/stateless-root', name: 'e2e-root' },
};

/** The `_meta` every 2026-07-28 request carries (basic/index#meta). */
export function envelope(clientName = 'raw-2026'): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientInfo': { name: clientName, version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': CLIENT_CAPABILITIES,
  };
}

export interface JsonRpcMessage {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

/** One HTTP exchange as the client saw it. */
export interface Exchange {
  request: JsonRpcMessage | undefined;
  status: number;
  contentType: string | null;
  sessionId: string | null;
  /** The JSON-RPC messages of the answer: one JSON body, or every SSE event's message. */
  messages: JsonRpcMessage[];
}

/** A fetch for the SDK transport that records every exchange without disturbing the client's read of it. */
export class WireLog {
  readonly exchanges: Exchange[] = [];
  private readonly reading: Promise<void>[] = [];

  constructor(private readonly inner: FetchLike = fetch) {}

  readonly fetch: FetchLike = async (url, init) => {
    const res = await this.inner(url, init);
    const exchange: Exchange = {
      request: typeof init?.body === 'string' ? (JSON.parse(init.body) as JsonRpcMessage) : undefined,
      status: res.status,
      contentType: res.headers.get('content-type'),
      sessionId: res.headers.get('mcp-session-id'),
      messages: [],
    };
    this.exchanges.push(exchange);
    if (!res.body) return res;
    const [forClient, forLog] = res.body.tee();
    this.reading.push(parseBody(forLog, exchange).catch(() => undefined));
    return new Response(forClient, { status: res.status, statusText: res.statusText, headers: res.headers });
  };

  /** Resolves once every recorded answer has been read to its end. */
  async settled(): Promise<void> {
    await Promise.all(this.reading);
  }

  /** The exchanges of requests for `method`, in order. */
  of(method: string): Exchange[] {
    return this.exchanges.filter((e) => e.request?.method === method);
  }

  /** The JSON-RPC response (result or error) an exchange answered its request with. */
  static responseOf(exchange: Exchange): JsonRpcMessage | undefined {
    return exchange.messages.find((m) => m.id !== undefined && m.id === exchange.request?.id && m.method === undefined);
  }
}

async function parseBody(body: ReadableStream<Uint8Array>, exchange: Exchange): Promise<void> {
  if (exchange.contentType?.includes('text/event-stream')) {
    exchange.messages.push(...(messagesOf(await readEvents(body)) as JsonRpcMessage[]));
    return;
  }
  const text = await new Response(body).text();
  if (text === '') return;
  const parsed = JSON.parse(text) as JsonRpcMessage | JsonRpcMessage[];
  exchange.messages.push(...(Array.isArray(parsed) ? parsed : [parsed]));
}

export interface ModernClient {
  client: Client;
  wire: WireLog;
  /** The messages of every sampling request the client's handler answered. */
  sampled: string[];
  /** The message of every elicitation the client's handler answered. */
  elicited: string[];
  /** How many times the server asked for the client's roots. */
  rootsAsked: () => number;
}

/**
 * The SDK v2 client pinned to 2026-07-28: `connect()` sends `server/discover` and fails unless the
 * server offers exactly that revision (no `initialize`, no fallback). `input_required` results are
 * fulfilled by the handlers below and retried by the SDK itself (its default `inputRequired.autoFulfill`).
 */
export async function connectModern(url: string, authorization: string, inner?: FetchLike): Promise<ModernClient> {
  const wire = new WireLog(inner);
  const client = new Client(
    { name: 'e2e-2026', version: '1.0.0' },
    {
      capabilities: CLIENT_CAPABILITIES,
      versionNegotiation: { mode: { pin: MODERN } },
      inputRequired: { autoFulfill: true, maxRounds: 4 },
    },
  );
  const sampled: string[] = [];
  const elicited: string[] = [];
  let roots = 0;
  client.setRequestHandler('sampling/createMessage', (request) => {
    sampled.push(JSON.stringify(request.params.messages));
    return { model: 'e2e-model', role: 'assistant', content: { type: 'text', text: ANSWERS.sampled } };
  });
  client.setRequestHandler('elicitation/create', (request) => {
    elicited.push(request.params.message);
    return { action: 'accept', content: { name: ANSWERS.elicitedName, check: true } };
  });
  client.setRequestHandler('roots/list', () => {
    roots++;
    return { roots: [ANSWERS.root] };
  });
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: wire.fetch, requestInit: { headers: { authorization } } });
  try {
    await client.connect(transport);
  } catch (err) {
    // Say what the server answered, not only that negotiation failed.
    await wire.settled();
    const seen = wire.exchanges.map((e) => ({ method: e.request?.method, status: e.status, messages: e.messages }));
    throw new Error(`${String(err)}\nthe exchanges: ${JSON.stringify(seen)}`, { cause: err });
  }
  return { client, wire, sampled, elicited, rootsAsked: () => roots };
}

/** The header the 2026-07-28 transport requires for `method` (Mcp-Name: params.name or params.uri). */
function nameOf(message: JsonRpcMessage): string | undefined {
  const params = message.params ?? {};
  const value = params.name ?? params.uri;
  return typeof value === 'string' ? value : undefined;
}

export interface RawAnswer {
  status: number;
  headers: Headers;
  /** Every JSON-RPC message of the answer, in order. */
  messages: JsonRpcMessage[];
  /** The JSON-RPC response to the request (by id), if the body held one. */
  response: JsonRpcMessage | undefined;
  /** Notifications that came before it on an SSE answer. */
  notifications: JsonRpcMessage[];
  text: string;
}

/**
 * One raw 2026-07-28 POST: the standard headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name) taken
 * from the body unless `headers` overrides them. Reads a JSON or an SSE answer to its end.
 */
export async function postModern(
  url: string,
  authorization: string,
  message: JsonRpcMessage,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  const name = nameOf(message);
  const res = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(message),
    headers: {
      ...JSON_HEADERS,
      authorization,
      'mcp-protocol-version': MODERN,
      'mcp-method': message.method ?? '',
      ...(name !== undefined && { 'mcp-name': name }),
      ...headers,
    },
  });
  let messages: JsonRpcMessage[];
  let text: string;
  if (res.headers.get('content-type')?.includes('text/event-stream')) {
    messages = messagesOf(await readEvents(res.body)) as JsonRpcMessage[];
    text = JSON.stringify(messages);
  } else {
    text = await res.text();
    messages = parseMessages(text);
  }
  return {
    status: res.status,
    headers: res.headers,
    messages,
    response: messages.find((m) => m.method === undefined && m.id === message.id),
    notifications: messages.filter((m) => m.method !== undefined),
    text,
  };
}

/** The JSON-RPC messages of a JSON body; none when it is not JSON (a plain-text error page, say). */
function parseMessages(text: string): JsonRpcMessage[] {
  try {
    const parsed = JSON.parse(text) as JsonRpcMessage | JsonRpcMessage[];
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return [];
  }
}
