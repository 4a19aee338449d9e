import { readBody, mediaType, type UpstreamResponse } from './upstream-http.js';

/** Enough of an error body for its message. */
const DETAIL_BYTES = 4096;

export interface UpstreamStatus {
  /** The upstream no longer knows the session the request named. */
  sessionGone: boolean;
  /** The upstream's own words about the error (a JSON-RPC error message or a line of text), if it gave any. */
  detail: string | undefined;
}

/**
 * What a refusal (a status that is not 2xx) means. A session is gone at 404, as the spec says,
 * or at a 400 whose error mentions the session: servers built from the MCP SDK's Express
 * examples answer an unknown `Mcp-Session-Id` with 400 "No valid session ID provided".
 */
export async function readRefusal(response: UpstreamResponse, namedSession: boolean): Promise<UpstreamStatus> {
  const body = await readBody(response.body, DETAIL_BYTES).catch(() => undefined);
  const detail = body === undefined ? undefined : detailOf(body.toString('utf8'), mediaType(response));
  const sessionGone = namedSession && (response.status === 404 || (response.status === 400 && /session/i.test(detail ?? '')));
  return { sessionGone, detail };
}

function detailOf(text: string, type: string | undefined): string | undefined {
  if (type === 'application/json') {
    try {
      const value: unknown = JSON.parse(text);
      const error = typeof value === 'object' && value !== null && 'error' in value ? value.error : undefined;
      const message = typeof error === 'object' && error !== null && 'message' in error ? error.message : undefined;
      return typeof message === 'string' ? message : undefined;
    } catch {
      return undefined;
    }
  }
  // Plain text only: an HTML error page says nothing a client can use.
  const line = type === 'text/plain' ? text.split('\n')[0]?.trim() : undefined;
  return line || undefined;
}
