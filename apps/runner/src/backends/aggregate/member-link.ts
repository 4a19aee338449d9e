import { BusNoRespondersError, BusTimeoutError } from '#bus';
import {
  AckReplySchema,
  decode,
  encode,
  SessionAttachRequestSchema,
  sessionAttachSubject,
  SessionCloseRequestSchema,
  sessionCloseSubject,
  SessionInRequestSchema,
  sessionInSubject,
  SessionOpenReplySchema,
  SessionOpenRequestSchema,
  sessionOpenSubject,
  SessionTouchRequestSchema,
  sessionTouchSubject,
  type JsonRpcMessage,
  type Principal,
  type StreamMessage,
} from '#contracts';
import { randomId } from '#crypto';
import type { AggregateHub } from './aggregate-hub.js';

/** Time for the bus on top of a member's own start-up timeout. */
const OPEN_MARGIN_MS = 5000;
const ACK_TIMEOUT_MS = 1500;
/** While calls are waiting, the member session is touched this often: it stays alive, and a dead runner is noticed. */
const TOUCH_EVERY_MS = 2000;

export interface MemberServer {
  name: string;
  runnerGroup: string;
  timeoutMs: number;
}

/** What the aggregate's client said at initialize, passed on to each member. */
export interface MemberInitialize {
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  clientInfo: Record<string, unknown>;
}

/** A member session is gone (closed, idled out, its runner dead), or could not be reached. */
export class MemberGone extends Error {}

type Open = { runnerId: string; sessionId: string };

/**
 * One member session, opened on demand under the caller's identity through the member's own
 * runner group, as an edge would open it; reopened when it has gone away.
 */
export class MemberLink {
  /** Each message the member sends. */
  onmessage: (message: JsonRpcMessage) => void = () => undefined;
  /** The member session went away while calls were waiting. */
  ongone: (reason: string) => void = () => undefined;
  private open: Open | undefined;
  private opening: Promise<Open> | undefined;
  private readonly stream: { subject: string; close: () => void };
  private busyTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly member: MemberServer,
    private readonly principal: Principal,
    private readonly init: MemberInitialize,
    private readonly hub: AggregateHub,
  ) {
    this.stream = hub.openStream((event) => this.receive(event));
  }

  /** Sends one message; a session that has gone is opened again first. Rejects with MemberGone. */
  async send(message: JsonRpcMessage): Promise<void> {
    const open = await this.ensureOpen();
    const sent = await this.ack(
      sessionInSubject(open.runnerId, open.sessionId),
      encode(SessionInRequestSchema, { messages: [message], stream: this.stream.subject }),
    );
    if (sent === 'ok') return;
    this.open = undefined;
    if (sent === 'refused') throw new MemberGone(`${this.member.name} refused the message`);
    // The session ended before this message reached it: nothing was done, so it is safe to send again.
    const reopened = await this.ensureOpen();
    const again = await this.ack(
      sessionInSubject(reopened.runnerId, reopened.sessionId),
      encode(SessionInRequestSchema, { messages: [message], stream: this.stream.subject }),
    );
    if (again !== 'ok') throw new MemberGone(`${this.member.name} is not reachable`);
  }

  /** Whether calls wait on this member: then it is touched, and noticed when it dies. */
  busy(waiting: boolean): void {
    clearInterval(this.busyTimer);
    this.busyTimer = waiting ? setInterval(() => void this.touch(), TOUCH_EVERY_MS) : undefined;
    this.busyTimer?.unref();
  }

  async close(): Promise<void> {
    this.busy(false);
    this.stream.close();
    const open = this.open;
    this.open = undefined;
    if (open)
      await this.ack(
        sessionCloseSubject(open.runnerId, open.sessionId),
        encode(SessionCloseRequestSchema, { reason: 'the aggregate session ended' }),
        5000,
      );
  }

  private ensureOpen(): Promise<Open> {
    if (this.open) return Promise.resolve(this.open);
    this.opening ??= this.openSession().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async openSession(): Promise<Open> {
    const { name, runnerGroup, timeoutMs } = this.member;
    const sessionId = randomId();
    const initialize = { jsonrpc: '2.0' as const, id: 0, method: 'initialize', params: { ...this.init } };
    const request = encode(SessionOpenRequestSchema, {
      sessionId,
      server: name,
      principal: this.principal,
      transport: 'streamable-http',
      initialize,
    });
    let reply;
    try {
      reply = await this.hub.bus.request(sessionOpenSubject(runnerGroup), request, { timeoutMs: timeoutMs + OPEN_MARGIN_MS });
    } catch (err) {
      if (err instanceof BusNoRespondersError) throw new MemberGone(`no runner is serving ${name}`);
      if (err instanceof BusTimeoutError) throw new MemberGone(`${name} did not start in time`);
      throw err;
    }
    const decoded = decode(SessionOpenReplySchema, reply.data);
    if (!decoded.ok) throw new MemberGone(`${name}: the runner sent a malformed reply`);
    if (!decoded.value.ok) throw new MemberGone(`${name}: ${decoded.value.error.message}`);
    const open = { runnerId: decoded.value.runnerId, sessionId };
    const initialized = encode(SessionInRequestSchema, { messages: [{ jsonrpc: '2.0', method: 'notifications/initialized' }] });
    await this.ack(sessionInSubject(open.runnerId, sessionId), initialized);
    // Server-initiated messages (sampling, list changes) come on the same stream as answers.
    await this.ack(sessionAttachSubject(open.runnerId, sessionId), encode(SessionAttachRequestSchema, { attach: this.stream.subject }));
    this.open = open;
    return open;
  }

  private async touch(): Promise<void> {
    const open = this.open;
    if (!open) return;
    const touched = await this.ack(sessionTouchSubject(open.runnerId, open.sessionId), encode(SessionTouchRequestSchema, {}));
    if (touched === 'ok' || this.open !== open) return;
    this.open = undefined;
    this.busy(false);
    this.ongone(`${this.member.name} went away`);
  }

  private receive(event: StreamMessage): boolean {
    if (event.message) this.onmessage(event.message);
    return true;
  }

  /** 'ok', 'gone' (no session, or no runner), or 'refused' (the runner would not take it). */
  private async ack(subject: string, payload: Uint8Array, timeoutMs = ACK_TIMEOUT_MS): Promise<'ok' | 'gone' | 'refused'> {
    try {
      const reply = decode(AckReplySchema, (await this.hub.bus.request(subject, payload, { timeoutMs })).data);
      if (!reply.ok) return 'refused';
      if (reply.value.ok) return 'ok';
      return reply.value.error.code === 'SESSION_NOT_FOUND' ? 'gone' : 'refused';
    } catch (err) {
      if (err instanceof BusNoRespondersError || err instanceof BusTimeoutError) return 'gone';
      throw err;
    }
  }
}
