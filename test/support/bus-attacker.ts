import { errors, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { decode, SessionOpenReplySchema, SessionOpenRequestSchema } from '#contracts';
import { payloadBytes, type BusAction } from './bus-fuzz-actions.js';
import { contractOf } from './bus-fuzz-targets.js';

/**
 * How long a request waits where a reply is due (a close waits for the process tree to go), and
 * where none is (an event subject's listener never answers). Unanswered counts, it does not fail.
 */
const REPLY_DUE_TIMEOUT_MS = 5000;
const NO_REPLY_DUE_TIMEOUT_MS = 200;
const CLOSE_TIMEOUT_MS = 5000;

export type BusOutcome = { kind: 'reply'; data: Uint8Array } | { kind: 'no responders' } | { kind: 'timeout' } | { kind: 'published' };

/**
 * Sends fuzzed messages with the plain NATS client, as anyone who can reach the server could,
 * and remembers the sessions a valid session.open may have started, to end them afterwards.
 */
export class BusAttacker {
  /** How each kind of subject answered: "session.in reply", "auth.http timeout", … */
  readonly outcomes = new Map<string, number>();
  /** Session ids of well-formed open requests, answered or not. */
  private readonly opened = new Set<string>();

  constructor(private readonly nc: NatsConnection) {}

  async send(action: BusAction): Promise<BusOutcome> {
    const data = payloadBytes(action);
    const open = action.subject.endsWith('.session.open') ? decode(SessionOpenRequestSchema, data) : undefined;
    if (open?.ok) this.opened.add(open.value.sessionId);
    const contract = contractOf(action.subject);
    const outcome = await this.deliver(action, data, contract?.reply ? REPLY_DUE_TIMEOUT_MS : NO_REPLY_DUE_TIMEOUT_MS);
    const key = `${contract?.name ?? 'other'} ${outcome.kind}`;
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
    return outcome;
  }

  /**
   * Ends every session a fuzzed open may have started, on every runner: their replies may have
   * gone to a publish nobody read. Resolves with how many a runner acknowledged.
   */
  async closeOpened(runnerIds: readonly string[]): Promise<number> {
    let closed = 0;
    for (const sessionId of this.opened) {
      for (const runnerId of runnerIds) {
        const reply = await this.nc
          .request(`gh.runner.${runnerId}.session.${sessionId}.close`, '{"reason":"fuzz cleanup"}', { timeout: CLOSE_TIMEOUT_MS })
          .catch(() => undefined);
        if (reply && new TextDecoder().decode(reply.data).includes('"ok":true')) closed += 1;
      }
    }
    return closed;
  }

  private async deliver(action: BusAction, data: Uint8Array, timeout: number): Promise<BusOutcome> {
    const headers = action.headers ? natsHeaders() : undefined;
    for (const [name, value] of Object.entries(action.headers ?? {})) headers?.set(name, value);
    if (action.mode === 'publish') {
      this.nc.publish(action.subject, data, { ...(headers && { headers }), ...(action.reply && { reply: action.reply }) });
      await this.nc.flush();
      return { kind: 'published' };
    }
    try {
      const reply = await this.nc.request(action.subject, data, { timeout, ...(headers && { headers }) });
      return { kind: 'reply', data: reply.data };
    } catch (err) {
      if (err instanceof errors.RequestError && err.isNoResponders()) return { kind: 'no responders' };
      if (err instanceof errors.TimeoutError) return { kind: 'timeout' };
      throw err;
    }
  }
}

/** The runner id in a session.open reply, when the runner opened the session. */
export function openedBy(outcome: BusOutcome): string | undefined {
  if (outcome.kind !== 'reply') return undefined;
  const reply = decode(SessionOpenReplySchema, outcome.data);
  return reply.ok && reply.value.ok ? reply.value.runnerId : undefined;
}
