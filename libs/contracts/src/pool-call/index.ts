import { createHash } from 'node:crypto';
import { z } from 'zod';
import { trustInProcess } from '../shared/codec.js';
import { JsonRpcMessageSchema } from '../shared/json-rpc.js';
import { PrincipalSchema } from '../shared/principal.js';
import { replySchema } from '../shared/reply.js';
import { SESSION_ID_PATTERN } from '../session-route/index.js';
import { StreamSubjectSchema } from '../session-stream/index.js';

/**
 * Edge hands one stateless (2026-07-28) request to a runner: the queue of the server's runner
 * group when no runner holds the caller's warm pool yet, else that runner by id.
 */
export const poolCallSubject = (groupOrRunnerId: string) => `gh.runner.${groupOrRunnerId}.pool.call`;
export const poolCallQueue = (groupOrRunnerId: string) => `gh.runner.${groupOrRunnerId}.pool`;

export const PoolCallRequestSchema = z.object({
  server: z.string().min(1),
  principal: PrincipalSchema,
  /** The client's request, its id replaced by one unique in the pooled session (the edge maps it back). */
  message: JsonRpcMessageSchema,
  /** Receives the call's progress, its response, then `end`. */
  stream: StreamSubjectSchema,
});
export type PoolCallRequest = z.infer<typeof PoolCallRequestSchema>;

/** The runner took the call: its answer comes on the stream; the session is watched like any other. */
export const PoolCallReplySchema = replySchema({
  runnerId: z.string().min(1),
  sessionId: z.string().regex(SESSION_ID_PATTERN),
});
export type PoolCallReply = z.infer<typeof PoolCallReplySchema>;
trustInProcess(PoolCallRequestSchema, PoolCallReplySchema);

/** KV key (in the session routes bucket) naming the runner that holds one identity's warm pool for one server. */
export function poolRouteKey(sub: string, server: string): string {
  return `pool-${createHash('sha256').update(sub).update('\0').update(server).digest('base64url').slice(0, 22)}`;
}

/** The runner holding an identity's warm pool for a server; only that runner writes it, as a lease. */
export const PoolRouteSchema = z.object({ runnerId: z.string().min(1), sub: z.string(), server: z.string() });
export type PoolRoute = z.infer<typeof PoolRouteSchema>;

/**
 * Gatehouse's own `requestState` for a call waiting on a pooled 2025 backend's request for input:
 * `gh1.<runnerId>.<sessionId>.<callId>.<mac>`. The runner and session are readable so any edge
 * routes the retry; the runner checks the MAC, which binds the rest to the caller and the call.
 */
const REQUEST_STATE = /^gh1\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{43})$/;

export interface ParkedCallState {
  runnerId: string;
  sessionId: string;
  callId: string;
  mac: string;
}

export function parseRequestState(state: unknown): ParkedCallState | undefined {
  if (typeof state !== 'string') return undefined;
  const match = REQUEST_STATE.exec(state);
  if (!match) return undefined;
  const [, runnerId, sessionId, callId, mac] = match;
  return runnerId && sessionId && callId && mac && SESSION_ID_PATTERN.test(sessionId) ? { runnerId, sessionId, callId, mac } : undefined;
}

export function formatRequestState(state: ParkedCallState): string {
  return `gh1.${state.runnerId}.${state.sessionId}.${state.callId}.${state.mac}`;
}
