import {
  JsonRpcCode,
  errorResponse,
  type JsonRpcMessage,
  type Principal,
  type ReplyErrorCode,
  type RequestId,
  type SessionTransport,
} from '#contracts';
import type { SessionRelay } from '../relay/session-relay.js';
import type { EdgeServer } from './admission.js';

/** Time for the bus on top of the server's own start-up timeout. */
const OPEN_MARGIN_MS = 5000;

const STATUS: Record<ReplyErrorCode, number> = {
  SESSION_LIMIT: 429,
  BAD_REQUEST: 400,
  SESSION_NOT_FOUND: 404,
  UNKNOWN_SERVER: 502,
  BACKEND_FAILED: 502,
  UNAVAILABLE: 503,
  INTERNAL: 502,
};

export interface OpenSessionRequest {
  sessionId: string;
  server: EdgeServer;
  principal: Principal;
  transport: SessionTransport;
  /** Absent for a legacy SSE session: the runner starts it with the initialize it relays later. */
  initialize?: JsonRpcMessage & { id: RequestId };
  /** Legacy SSE: the stream every message of the session goes to. */
  stream?: string;
}

export type OpenedSession =
  { ok: true; runnerId: string; response: JsonRpcMessage | undefined } | { ok: false; status: number; response: JsonRpcMessage };

/** Starts a session on a runner of the server's group, which records its route before it answers. */
export async function openSession(relay: SessionRelay, request: OpenSessionRequest): Promise<OpenedSession> {
  const { sessionId, server, principal, initialize, transport, stream } = request;
  const reply = await relay.open(
    server.runnerGroup,
    { sessionId, server: server.name, principal, transport, initialize, stream },
    server.timeoutMs + OPEN_MARGIN_MS,
  );
  if (!reply.ok) {
    const response = errorResponse(initialize?.id ?? null, JsonRpcCode.serverError, reply.error.message);
    return { ok: false, status: STATUS[reply.error.code], response };
  }
  return { ok: true, runnerId: reply.runnerId, response: reply.response };
}
