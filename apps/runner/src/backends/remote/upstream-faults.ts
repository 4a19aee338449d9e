/** Why a network error happened, in words a person configuring Gatehouse acts on. */
const NETWORK_CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  ABORT_ERR: 'the session ended first',
};

/** Node's codes for a certificate that does not verify against the trusted CAs. */
const UNTRUSTED_CERTIFICATE = /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|CERT_|ERR_TLS_CERT_ALTNAME_INVALID)/;

/** The metrics' name for each kind of fault below. */
export type UpstreamFaultKind =
  'unreachable' | 'timeout' | 'auth_refused' | 'http_status' | 'redirect' | 'protocol' | 'closed' | 'session_lost';

/** Longest piece of an upstream's own error text repeated to the client. */
const DETAIL_CHARS = 200;

/**
 * The errors a client sees about one remote server, each naming it and its origin — never the
 * full URL, whose path or query may hold a key — and saying what to do where there is something.
 * Each is made when it happens, so making one is also where it is counted (`onFault`).
 */
export class UpstreamFaults {
  private readonly label: string;

  constructor(
    server: string,
    url: URL,
    private readonly onFault: (kind: UpstreamFaultKind) => void = () => undefined,
  ) {
    this.label = `upstream "${server}" (${url.origin})`;
  }

  unreachable(err: unknown): string {
    this.onFault('unreachable');
    const code = errorCode(err);
    if (code !== undefined && UNTRUSTED_CERTIFICATE.test(code)) {
      return `${this.label} could not be reached: its TLS certificate is not trusted (${code}); give its CA to Gatehouse with NODE_EXTRA_CA_CERTS`;
    }
    if (code?.startsWith('ERR_SSL') || code === 'EPROTO') return `${this.label} could not be reached: the TLS handshake failed (${code})`;
    const cause = code === undefined ? 'the connection failed' : `${NETWORK_CAUSES[code] ?? 'the connection failed'} (${code})`;
    return `${this.label} could not be reached: ${cause}`;
  }

  noAnswer(ms: number): string {
    this.onFault('timeout');
    return `${this.label} did not answer within ${ms} ms`;
  }

  refused(status: number): string {
    this.onFault('auth_refused');
    return `${this.label} refused the gateway's credentials (HTTP ${status}); check the headers configured for this server`;
  }

  status(status: number, detail?: string): string {
    this.onFault('http_status');
    const said = detail ? `: ${detail.slice(0, DETAIL_CHARS)}` : '';
    return `${this.label} answered HTTP ${status}${said}`;
  }

  redirectedAway(target: URL): string {
    this.onFault('redirect');
    return `${this.label} redirected to another origin (${target.origin}); Gatehouse does not follow that`;
  }

  tooManyRedirects(): string {
    this.onFault('redirect');
    return `${this.label} redirected too many times`;
  }

  foreignEndpoint(target: URL): string {
    this.onFault('redirect');
    return `${this.label} named a message endpoint on another origin (${target.origin}); Gatehouse does not follow that`;
  }

  notEventStream(contentType: string | undefined): string {
    this.onFault('protocol');
    return `${this.label} did not answer with an event stream (content type ${contentType ?? 'none'})`;
  }

  unexpectedContent(contentType: string | undefined): string {
    this.onFault('protocol');
    return `${this.label} answered with content type ${contentType ?? 'none'}, not JSON or an event stream`;
  }

  notJsonRpc(): string {
    this.onFault('protocol');
    return `${this.label} sent something that is not a JSON-RPC message`;
  }

  tooDeep(depth: number): string {
    this.onFault('protocol');
    return `${this.label} sent a message nested deeper than ${depth} levels`;
  }

  tooLarge(maxBytes: number): string {
    this.onFault('protocol');
    return `${this.label} sent a message larger than ${maxBytes} bytes`;
  }

  unanswered(): string {
    this.onFault('closed');
    return `${this.label} accepted the request but did not answer it`;
  }

  closedMidCall(): string {
    this.onFault('closed');
    return `${this.label} closed the stream before answering`;
  }

  streamClosed(): string {
    this.onFault('closed');
    return `${this.label} closed its event stream`;
  }

  noEndpoint(): string {
    this.onFault('closed');
    return `${this.label} closed its event stream before naming its message endpoint`;
  }

  sessionLost(status: number): string {
    this.onFault('session_lost');
    return `${this.label} ended its session (HTTP ${status}) and a new one did not work either`;
  }

  sessionEnded(status: number): string {
    this.onFault('session_lost');
    return `${this.label} ended its session (HTTP ${status})`;
  }
}

/** The system or TLS error code of a Node network error, looking through `cause`. */
export function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    if ('code' in e && typeof e.code === 'string') return e.code;
    e = 'cause' in e ? e.cause : undefined;
  }
  return undefined;
}
