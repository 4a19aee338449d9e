export interface GatehouseErrorOptions {
  /** Whether `message` may be shown to the client; otherwise it gets a generic text for the status. */
  expose?: boolean;
  /** The JSON-RPC error code an MCP client gets (the spec's, or serverError). */
  rpcCode?: number;
  /** The JSON-RPC id of the request refused, when it could be read. */
  rpcId?: string | number | null;
  /** The JSON-RPC error's `data` (a JSON value), for errors whose spec defines one; shown only when `expose` is. */
  rpcData?: unknown;
  /** Response headers that go with the refusal (WWW-Authenticate, Retry-After). */
  headers?: Readonly<Record<string, string | string[]>>;
  cause?: unknown;
}

/**
 * The one error a client is answered with: a stable `code`, the HTTP status, and whether the
 * message may be shown. Services throw it; the transport that answers maps it once.
 */
export class GatehouseError extends Error {
  readonly expose: boolean;
  readonly rpcCode: number;
  readonly rpcId: string | number | null;
  readonly rpcData: unknown;
  readonly headers: Readonly<Record<string, string | string[]>>;

  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    options: GatehouseErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.expose = options.expose ?? true;
    this.rpcCode = options.rpcCode ?? -32000;
    this.rpcId = options.rpcId ?? null;
    this.rpcData = options.rpcData;
    this.headers = options.headers ?? {};
  }

  /** What the client may read. */
  get publicMessage(): string {
    return this.expose ? this.message : genericMessage(this.status);
  }
}

function genericMessage(status: number): string {
  if (status === 503) return 'The gateway is temporarily unavailable; retry shortly';
  if (status >= 500) return 'The gateway could not complete the request';
  return 'The request was refused';
}
