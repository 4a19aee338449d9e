/** How one MCP request ended, as the client saw it. */
export type McpOutcome = 'ok' | 'error' | 'refused' | 'cancelled';
/** What checking a presented access token found. */
export type TokenCheckOutcome = 'valid' | 'expired' | 'revoked' | 'wrong_audience' | 'invalid' | 'unavailable';
/** How a sign-in at the identity provider ended, back at auth's callback. */
export type LoginOutcome = 'ok' | 'denied' | 'failed' | 'refused' | 'expired' | 'wrong_browser';
/** How a request over the bus ended. */
export type BusRequestOutcome = 'ok' | 'no_responders' | 'timeout' | 'error';
/** What went wrong with a remote backend. */
export type UpstreamErrorKind =
  'unreachable' | 'timeout' | 'auth_refused' | 'http_status' | 'redirect' | 'protocol' | 'closed' | 'session_lost';

/**
 * The counters and gauges a service moves, sized for its hot paths: each member records one event.
 * Callers pass raw values (a server name, a JSON-RPC method); the implementation bounds the labels.
 */
export interface Metrics {
  /** False for the no-op: a caller may skip work it does only to measure. */
  readonly enabled: boolean;
  /** One HTTP request the edge answered; `route` is the route's pattern (`/:server/mcp`), never the path. */
  httpRequest(route: string, method: string, status: number | undefined): void;
  /** One JSON-RPC request of a client, from its HTTP request's arrival to its answer. */
  mcpRequest(server: string, method: string, outcome: McpOutcome, seconds: number): void;
  /** A session opened (+1) or ended (-1) on a runner. */
  sessions(server: string, delta: 1 | -1): void;
  /** A client's event stream (GET /{server}/mcp or legacy /{server}/sse) opened (+1) or closed (-1) at an edge. */
  streams(server: string, delta: 1 | -1): void;
  /** A backend process started (+1) or exited (-1). */
  backendProcesses(server: string, delta: 1 | -1): void;
  /** A backend process could not be started. */
  spawnFailed(server: string): void;
  /** One request over the bus; `subjectPattern` has its ids replaced by `*`. */
  busRequest(subjectPattern: string, outcome: BusRequestOutcome, seconds: number): void;
  /** One access token checked at an edge. */
  tokenCheck(outcome: TokenCheckOutcome): void;
  /** One sign-in back from the identity provider. */
  login(outcome: LoginOutcome): void;
  /** One failure of a remote backend. */
  upstreamError(server: string, kind: UpstreamErrorKind): void;
}

const nothing = (): void => undefined;

/** Metrics off (no `--metrics-addr`): every member does nothing. */
export const noMetrics: Metrics = {
  enabled: false,
  httpRequest: nothing,
  mcpRequest: nothing,
  sessions: nothing,
  streams: nothing,
  backendProcesses: nothing,
  spawnFailed: nothing,
  busRequest: nothing,
  tokenCheck: nothing,
  login: nothing,
  upstreamError: nothing,
};
