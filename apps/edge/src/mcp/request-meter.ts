import type { McpOutcome, Metrics } from '#observability';

/** Counts one JSON-RPC request of an HTTP request, timed from that HTTP request's arrival. */
export type RequestMeter = (method: string, outcome: McpOutcome) => void;

/** Past this size a refused body is not read for its methods: refusals must stay cheap. */
const PEEK_LIMIT_BYTES = 64 * 1024;

/** `receivedAt`: `performance.now()` when the HTTP request arrived. */
export function requestMeter(metrics: Metrics, server: string, receivedAt: number): RequestMeter {
  return (method, outcome) => metrics.mcpRequest(server, method, outcome, (performance.now() - receivedAt) / 1000);
}

/**
 * The methods of the requests in a body the edge refused before reading it: one `other` when the
 * body is not JSON (or too large to look at), none when it holds only notifications or responses.
 */
export function refusedMethods(body: Buffer | undefined): string[] {
  if (!body || body.length > PEEK_LIMIT_BYTES) return ['other'];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return ['other'];
  }
  const messages: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  return messages.flatMap((m) =>
    typeof m === 'object' && m !== null && 'method' in m && 'id' in m && typeof m.method === 'string' ? [m.method] : [],
  );
}
