import type { JsonRpcMessage } from '#contracts';
import type { Logger } from '#observability';
import { GUARD_END_REASON, type BackendConnection, type BackendLogContext } from '../backend.port.js';
import { UpstreamFaults, type UpstreamFaultKind } from './upstream-faults.js';
import { UpstreamHttp } from './upstream-http.js';

/** One remote server as a session's backend sees it. */
export interface RemoteSpec {
  url: URL;
  /** The configured headers, sent with every request; nothing of the client's goes upstream. */
  headers: Record<string, string>;
  /** Time to connect, and to answer what must be answered at once (GETs, notifications). */
  timeoutMs: number;
  /** The largest message read from the upstream: `proxy.limits.maxMessageBytes`. */
  maxMessageBytes: number;
  log: Logger;
  context: BackendLogContext;
  /** For a server with a person's token in its headers: asked once when the upstream answers 401. */
  credential?: UpstreamCredential;
  /** Told of each fault of the upstream while the session lives (not of what its own close causes). */
  onFault?: (kind: UpstreamFaultKind) => void;
}

/** The person's credential behind a remote backend's headers, renewed when the upstream refuses it. */
export interface UpstreamCredential {
  /** The upstream answered 401 to these headers: new headers to try once, or the reason to give the client. */
  refused(): Promise<{ ok: true; headers: Record<string, string> } | { ok: false; reason: string }>;
}

/**
 * What both remote transports share: the session's lifetime (every request is aborted when it
 * ends), its own connections, only this session ended when routing a message or the session's
 * async work fails, and an end announced once.
 */
export abstract class RemoteBackend implements BackendConnection {
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  protected readonly faults: UpstreamFaults;
  protected readonly http: UpstreamHttp;
  /** The configured headers; replaced when the person's credential is renewed. */
  protected headers: Record<string, string>;
  private readonly lifetime = new AbortController();
  private finished = false;

  protected constructor(protected readonly spec: RemoteSpec) {
    this.faults = new UpstreamFaults(spec.context.server, spec.url, (kind) => {
      if (!this.lifetime.signal.aborted) spec.onFault?.(kind);
    });
    this.http = new UpstreamHttp(spec.url, this.faults, spec.timeoutMs);
    this.headers = spec.headers;
  }

  abstract start(): Promise<void>;

  send(message: JsonRpcMessage): void {
    if (!this.finished) this.spawn(() => this.deliver(message));
  }

  /** Headers for every later request (a renewed credential); requests under way keep theirs. */
  renewHeaders(headers: Record<string, string>): void {
    this.headers = headers;
  }

  async close(): Promise<void> {
    if (this.lifetime.signal.aborted) return;
    this.finished = true;
    this.lifetime.abort();
    try {
      await this.shutdown();
    } finally {
      this.http.destroy();
    }
  }

  /** Relays one client message upstream. */
  protected abstract deliver(message: JsonRpcMessage): Promise<void>;

  /** Whatever the transport does when the session ends, after every request was aborted. */
  protected abstract shutdown(): Promise<void>;

  protected get signal(): AbortSignal {
    return this.lifetime.signal;
  }

  /** A message for the client; dropped once the session has ended. */
  protected emit(message: JsonRpcMessage): void {
    if (this.finished) return;
    try {
      this.onmessage?.(message);
    } catch (err) {
      this.spec.log.error({ ...this.spec.context, err }, 'routing a message of the upstream failed');
      this.end(GUARD_END_REASON);
    }
  }

  /** The session ends from this side, once, unless its owner is already closing it; `reason` is shown to the client. */
  protected end(reason: string): void {
    if (this.finished) return;
    this.finished = true;
    this.spec.log.info({ ...this.spec.context, reason }, 'the upstream ended the session');
    this.onclose?.(reason);
  }

  /** Runs async work of this session; what it throws ends this session, not the runner. */
  protected spawn(work: () => Promise<void>): void {
    void work().catch((err: unknown) => {
      this.spec.log.error({ ...this.spec.context, err }, 'remote backend I/O failed');
      this.end(GUARD_END_REASON);
    });
  }

  protected log(level: 'debug' | 'info' | 'warn', message: string, fields: Record<string, unknown> = {}): void {
    this.spec.log[level]({ ...this.spec.context, upstream: this.spec.url.origin, ...fields }, message);
  }
}
