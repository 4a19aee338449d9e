import {
  JsonRpcCode,
  errorResponse,
  type JsonRpcMessage,
  type Principal,
  type ReplyErrorCode,
  type RequestId,
  type SessionRoute,
} from '#contracts';
import type { RouteTable } from '../relay/route-table.js';
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
  INTERNAL: 502,
};

export interface OpenSessionRequest {
  sessionId: string;
  server: EdgeServer;
  principal: Principal;
  initialize: JsonRpcMessage & { id: RequestId };
  transport: SessionRoute['transport'];
  /** Legacy SSE: the stream every message of the session goes to. */
  stream?: string;
}

export type OpenedSession =
  { ok: true; route: SessionRoute; response: JsonRpcMessage } | { ok: false; status: number; response: JsonRpcMessage };

/** Starts a session on a runner of the server's group and records its route. */
export async function openSession(deps: { relay: SessionRelay; routes: RouteTable }, request: OpenSessionRequest): Promise<OpenedSession> {
  const { sessionId, server, principal, initialize, transport, stream } = request;
  const reply = await deps.relay.open(
    server.runnerGroup,
    { sessionId, server: server.name, principal, initialize, stream },
    server.timeoutMs + OPEN_MARGIN_MS,
  );
  if (!reply.ok) {
    const response = errorResponse(initialize.id, JsonRpcCode.serverError, reply.error.message);
    return { ok: false, status: STATUS[reply.error.code], response };
  }
  const route: SessionRoute = { runnerId: reply.runnerId, sub: principal.sub, server: server.name, transport, stream };
  try {
    await deps.routes.put(sessionId, route);
  } catch {
    // Unroutable, the session would hold a process and a slot until it idled out.
    await deps.relay.close(reply.runnerId, sessionId, 'its route could not be stored').catch(() => undefined);
    const response = errorResponse(initialize.id, JsonRpcCode.serverError, 'The gateway could not record the session; try again');
    return { ok: false, status: 503, response };
  }
  return { ok: true, route, response: reply.response };
}
