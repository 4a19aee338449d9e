import { withUserToken, type ServerConfig } from '#config';
import {
  cancelledRequestId,
  errorResponse,
  idKey,
  isRequest,
  isResponse,
  JsonRpcCode,
  type JsonRpcMessage,
  type Principal,
  type RequestId,
} from '#contracts';
import { randomId } from '#crypto';
import type { Logger } from '#observability';
import type { CredentialAnswer, CredentialLookup } from '../../credentials/credential-lookup.js';
import type { BackendConnection, BackendLogContext } from '../backend.port.js';
import type { UpstreamCredential } from '../remote/remote-backend.js';
import { HeldCredential } from './held-credential.js';
import { acceptsUrlElicitation, gatedInitializeResult, missingCredentialAnswer, type Missing } from './missing-credential.js';

/** A backend built from a server config whose `$userToken` values are filled. */
export interface FilledBackend {
  backend: BackendConnection;
  /** A remote backend takes new headers for later requests when the credential is renewed. */
  renewHeaders?: (headers: Record<string, string>) => void;
}

export interface GateDeps {
  lookup: CredentialLookup;
  connect: (filled: ServerConfig, upstream: UpstreamCredential) => FilledBackend;
  log: Logger;
  context: BackendLogContext;
}

type Request = JsonRpcMessage & { id: RequestId; method: string };

/**
 * The backend of a session whose server needs the caller's own credential. With the credential
 * the real backend starts at once; without it the gate answers initialize itself and, on every
 * later request, asks again: still missing, the client gets the link; connected, the real backend
 * starts with the client's initialize and takes the request. Nothing reaches a backend before.
 */
export class CredentialGate implements BackendConnection {
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  private inner: FilledBackend | undefined;
  private held: HeldCredential | undefined;
  private missing: Missing | undefined;
  private initializeParams: Record<string, unknown> = {};
  /** Messages while gated, handled one at a time in order; later ones wait while a lookup runs. */
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private readonly cancelled = new Set<string>();
  private answerOf: { id: string; resolve: (message: JsonRpcMessage) => void } | undefined;
  private closed = false;

  constructor(
    private readonly server: ServerConfig,
    private readonly principal: Principal,
    private readonly deps: GateDeps,
  ) {}

  /** Rejects (with a message for the client) only when the credential could not be looked up. */
  async start(): Promise<void> {
    const answer = await this.deps.lookup.get(this.server, this.principal);
    if (answer.status === 'unavailable') throw new Error(`${answer.message} (the session could not start)`);
    if (answer.status === 'missing') {
      this.missing = answer;
      this.deps.log.info({ ...this.deps.context, connectable: answer.connectUrl !== undefined }, 'no credential yet: the session is gated');
      return;
    }
    await this.connect(answer);
  }

  send(message: JsonRpcMessage): void {
    if (this.closed) return;
    if (this.inner && this.queued === 0) return this.inner.backend.send(message);
    const cancelled = cancelledRequestId(message);
    if (cancelled !== undefined) this.cancelled.add(idKey(cancelled));
    this.queued++;
    this.queue = this.queue
      .then(() => (this.inner ? this.inner.backend.send(message) : this.gated(message)))
      .catch((err: unknown) => this.deps.log.error({ ...this.deps.context, err }, 'the credential gate failed on a message'))
      .finally(() => this.queued--);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.held?.close();
    await this.inner?.backend.close();
  }

  private async gated(message: JsonRpcMessage): Promise<void> {
    if (!isRequest(message) || this.cancelled.has(idKey(message.id))) return; // notifications wait for the real backend
    if (message.method === 'initialize') {
      this.initializeParams = record(message.params);
      return this.emit({
        jsonrpc: '2.0',
        id: message.id,
        result: gatedInitializeResult(this.server.name, this.initializeParams, this.need()),
      });
    }
    if (message.method === 'ping') return this.emit({ jsonrpc: '2.0', id: message.id, result: {} });
    const answer = await this.deps.lookup.get(this.server, this.principal);
    if (this.closed || this.cancelled.has(idKey(message.id))) return;
    if (answer.status === 'unavailable') return this.emit(errorResponse(message.id, JsonRpcCode.serverError, answer.message));
    if (answer.status === 'missing') {
      this.missing = answer;
      return this.emit(missingCredentialAnswer(message, answer, acceptsUrlElicitation(this.initializeParams)));
    }
    await this.openWith(answer, message);
  }

  /** Connected meanwhile: the real backend starts as the client started the session, then takes the waiting request. */
  private async openWith(answer: Extract<CredentialAnswer, { status: 'ok' }>, waiting: Request): Promise<void> {
    try {
      await this.connect(answer);
      const response = await this.initializeBackend();
      if (response.error !== undefined) throw new Error(`the backend of ${this.server.name} refused initialize`);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      await this.disconnect();
      return this.emit(errorResponse(waiting.id, JsonRpcCode.serverError, reason));
    }
    const inner = this.inner;
    if (!inner) return;
    this.missing = undefined;
    this.deps.log.info(this.deps.context, 'credential connected: the gated session reached its backend');
    inner.backend.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    inner.backend.send(waiting);
    this.emit({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
  }

  private async connect(answer: Extract<CredentialAnswer, { status: 'ok' }>): Promise<void> {
    const filled = fill(this.server, answer.token);
    const held = new HeldCredential(this.server, this.principal, answer.token, answer.expiresAt, {
      lookup: this.deps.lookup,
      log: this.deps.log,
      context: this.deps.context,
      renewed: (token) => this.inner?.renewHeaders?.(headersOf(fill(this.server, token))),
    });
    this.held = held;
    const inner = this.deps.connect(filled, {
      refused: async () => {
        const renewed = await held.refused();
        if (!renewed.ok) return renewed;
        try {
          return { ok: true, headers: headersOf(fill(this.server, renewed.token)) };
        } catch (err) {
          return { ok: false, reason: err instanceof Error ? err.message : String(err) };
        }
      },
    });
    // Expiry renewal only matters where headers can change; a stdio process keeps the env it started with.
    if (!inner.renewHeaders) held.close();
    inner.backend.onmessage = (message) => this.fromBackend(message);
    inner.backend.onclose = (reason) => this.onclose?.(reason);
    this.inner = inner;
    await inner.backend.start();
  }

  private async disconnect(): Promise<void> {
    const inner = this.inner;
    this.inner = undefined;
    this.held?.close();
    if (!inner) return;
    // The gate stays open for the next try: the failed backend's end is not the session's.
    inner.backend.onclose = undefined;
    inner.backend.onmessage = undefined;
    await inner.backend.close().catch(() => undefined);
  }

  private initializeBackend(): Promise<JsonRpcMessage> {
    const id = `gatehouse-credential-${randomId(8)}`;
    const timeoutMs = this.server.timeoutMs;
    return new Promise<JsonRpcMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the backend of ${this.server.name} did not answer initialize within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.answerOf = {
        id,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      this.inner?.backend.send({ jsonrpc: '2.0', id, method: 'initialize', params: this.initializeParams });
    }).finally(() => (this.answerOf = undefined));
  }

  private fromBackend(message: JsonRpcMessage): void {
    if (this.answerOf && isResponse(message) && message.id === this.answerOf.id) return this.answerOf.resolve(message);
    this.emit(message);
  }

  private need(): Missing {
    return this.missing ?? { message: `${this.server.name} is not connected yet.` };
  }

  private emit(message: JsonRpcMessage): void {
    if (!this.closed) this.onmessage?.(message);
  }
}

/** The server with the token filled in; a token an HTTP header cannot carry is refused, never sent. */
function fill(server: ServerConfig, token: string): ServerConfig {
  const filled = withUserToken(server, token);
  const headers = headersOf(filled);
  if (Object.values(headers).some((value) => /[^\t\x20-\x7e\x80-\xff]/.test(value))) {
    throw new Error(`your credential for ${server.name} has characters an HTTP header cannot carry; set it again`);
  }
  return filled;
}

function headersOf(server: ServerConfig): Record<string, string> {
  return server.transportType === 'streamable-http' || server.transportType === 'sse' ? server.headers : {};
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : {};
}
