import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Bus } from '#bus';
import {
  decode,
  encode,
  userCredentialAad,
  UserCredentialReplySchema,
  UserCredentialRequestSchema,
  userCredentialQueue,
  userCredentialSubject,
  type UserCredentialRequest,
} from '#contracts';
import type { Envelope } from '#crypto';
import type { BackendConnection } from '../backend.port.js';

/** What the stand-in for auth holds for one (sub, server): a formatted token, or nothing yet. */
type Held = { token: string; expiresAt?: number } | undefined;

/**
 * A responder on gh.auth.credentials.get (our own contract, so a fake is fine): it seals what it
 * holds for (sub, server) as auth does, and records every request it was asked.
 */
export class CredentialResponder {
  readonly requests: UserCredentialRequest[] = [];
  private readonly held = new Map<string, Held>();
  private readonly subscription;
  /** A token the upstream refused is replaced by this one on a request naming its hash. */
  private readonly refreshes = new Map<string, string>();

  constructor(
    bus: Bus,
    private readonly envelope: Envelope,
    private readonly connectUrl = 'https://gatehouse.test/my/tokens',
  ) {
    this.subscription = bus.subscribe(
      userCredentialSubject,
      (msg) => {
        const request = decode(UserCredentialRequestSchema, msg.data);
        if (!request.ok) return;
        this.requests.push(request.value);
        msg.respond(encode(UserCredentialReplySchema, this.answer(request.value)));
      },
      { queue: userCredentialQueue },
    );
  }

  set(sub: string, server: string, held: Held): void {
    this.held.set(`${sub}\u0000${server}`, held);
  }

  /** On a 401 (a request with `rejected`), the person's token becomes `next`. */
  refreshTo(sub: string, server: string, next: string): void {
    this.refreshes.set(`${sub}\u0000${server}`, next);
  }

  stop(): void {
    this.subscription.unsubscribe();
  }

  private answer(request: UserCredentialRequest) {
    const key = `${request.sub}\u0000${request.server}`;
    const next = this.refreshes.get(key);
    if (request.rejected !== undefined && next !== undefined) {
      this.refreshes.delete(key);
      this.held.set(key, { token: next });
    }
    const held = this.held.get(key);
    if (!held)
      return {
        status: 'missing' as const,
        connectUrl: `${this.connectUrl}?server=${request.server}`,
        message: `Connect ${request.server} first.`,
      };
    const sealed = this.envelope.seal(held.token, userCredentialAad(request.sub, request.server));
    return { status: 'ok' as const, sealed, ...(held.expiresAt !== undefined && { expiresAt: held.expiresAt }) };
  }
}

/** The SDK client's side of a backend connection: drives a gate (or any backend) with the real Client. */
export class BackendTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;

  constructor(private readonly backend: BackendConnection) {}

  async start(): Promise<void> {
    this.backend.onmessage = (message) => this.onmessage?.(JSONRPCMessageSchema.parse(message));
    this.backend.onclose = () => this.onclose?.();
    await this.backend.start();
  }

  send(message: JSONRPCMessage): Promise<void> {
    this.backend.send(message);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.backend.close();
    this.onclose?.();
  }
}
