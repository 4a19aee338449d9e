import type { JsonRpcMessage } from '#contracts';

/** Why a session ended when its backend's I/O threw, caught where the backend calls out: the client sees it. */
export const GUARD_END_REASON = 'the gateway failed while serving this session';

/** One live connection to an MCP backend for one session, sized like the SDK's Transport. */
export interface BackendConnection {
  /** Connects or spawns; rejects with a message safe to show the client. */
  start(): Promise<void>;
  /** Sends one message to the backend. */
  send(message: JsonRpcMessage): void;
  /** Ends the backend (for stdio, the whole process tree); idempotent. */
  close(): Promise<void>;
  /** Each message from the backend. */
  onmessage?: (message: JsonRpcMessage) => void;
  /** The backend went away by itself; `reason` is safe to show the client. */
  onclose?: (reason: string) => void;
}

/** Fields every backend log line carries. */
export interface BackendLogContext {
  sessionId: string;
  sub: string;
  server: string;
}
