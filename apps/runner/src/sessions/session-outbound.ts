import { parseEventId, STANDALONE_STREAM_KEY, streamIdOf, type JsonRpcMessage } from '#contracts';
import type { Logger } from '#observability';
import type { Outbound } from './outbound.port.js';
import type { ReplayLog } from './replay-log.js';
import type { StreamSink } from './stream-sink.port.js';

/** Server-initiated messages held while no stream takes them, oldest dropped first. */
const HELD_LIMIT = 256;

/**
 * Where one session's backend messages go. Each logical stream — a POST's answer stream, keyed by
 * its stream id, or the standalone GET stream — is held by one edge subject at a time and may
 * move to another (a resume, on any edge). What resumable streams carry is logged for replay.
 */
export class SessionOutbound implements Outbound {
  /** Request streams with requests in flight, oldest first, and the subject holding each now. */
  private readonly requestStreams = new Map<string, string>();
  private standalone: string | undefined;
  private readonly held: JsonRpcMessage[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly sessionId: string,
    private readonly sink: StreamSink,
    private readonly log: Logger,
    private readonly replay: ReplayLog | undefined,
    /** Legacy SSE: the one stream of the session, for everything. */
    private readonly legacyStream?: string,
  ) {
    this.standalone = legacyStream;
  }

  /** The logical stream a request sent with `subject` answers on. */
  streamFor(subject: string | undefined): string | undefined {
    const chosen = subject ?? this.legacyStream;
    if (chosen === undefined) return undefined;
    const key = streamIdOf(chosen);
    if (!this.requestStreams.has(key)) this.requestStreams.set(key, chosen);
    return key;
  }

  /**
   * A response or progress for request stream `key`; logged even when no edge holds the stream.
   * `last`: the stream carries nothing after it, and the same bus message says so (see `end`).
   */
  send(key: string | undefined, message: JsonRpcMessage, last = false): void {
    if (key === undefined) return this.offer(message);
    const event = this.replay?.append(key, message);
    const subject = this.requestStreams.get(key);
    if (subject === undefined) return;
    const end = last && this.ends(key, subject);
    const bytes = this.sink.publish(subject, { sessionId: this.sessionId, eventId: event?.eventId, message, ...(end && { end }) });
    if (event && this.replay) this.replay.sized(event, bytes);
  }

  /** Request stream `key` carries nothing more: its edge ends the HTTP answer. */
  end(key: string): void {
    const subject = this.requestStreams.get(key);
    if (subject !== undefined && this.ends(key, subject)) this.sink.publish(subject, { sessionId: this.sessionId, end: true });
  }

  /** Forgets request stream `key` unless it is the legacy stream, which outlives every request; whether it did. */
  private ends(key: string, subject: string): boolean {
    if (subject === this.legacyStream) return false;
    this.requestStreams.delete(key);
    this.replay?.ended(key);
    return true;
  }

  /** Ends every request stream (the session is over). */
  endAll(): void {
    for (const key of [...this.requestStreams.keys()]) this.end(key);
  }

  /** A server-initiated message: to the standalone stream, else the newest request stream, else held. */
  offer(message: JsonRpcMessage): void {
    this.chain = this.chain.then(async () => {
      if (this.held.length === 0 && (await this.deliver(message))) return;
      if (this.held.push(message) > HELD_LIMIT) {
        this.held.shift();
        this.log.warn({ sessionId: this.sessionId }, 'no client stream is open; dropped the oldest held message');
      }
    });
  }

  /**
   * A stream opened on an edge: the standalone stream, or, with the client's Last-Event-ID, the
   * stream it names, resumed with what it missed. Returns the event id a new standalone stream's
   * priming event carries.
   */
  attach(subject: string, resumeAfter: string | undefined, inFlight: (key: string) => boolean): string | undefined {
    const resume = resumeAfter === undefined ? undefined : parseEventId(resumeAfter);
    if (!resume || resume.key === STANDALONE_STREAM_KEY) {
      if (resume) this.replayTo(subject, resume.key, resume.position);
      this.standalone = subject;
      this.chain = this.chain.then(() => this.release());
      return resume ? undefined : this.replay?.lastEventId(STANDALONE_STREAM_KEY);
    }
    this.replayTo(subject, resume.key, resume.position);
    if (inFlight(resume.key)) this.requestStreams.set(resume.key, subject);
    else this.sink.publish(subject, { sessionId: this.sessionId, end: true });
    return undefined;
  }

  detach(subject: string): void {
    if (this.standalone === subject) this.standalone = undefined;
  }

  private replayTo(subject: string, key: string, position: number): void {
    if (!this.replay) return;
    const { events, lost } = this.replay.after(key, position);
    if (lost > 0) this.log.warn({ sessionId: this.sessionId, lost }, 'a resumed stream missed events no longer kept for replay');
    for (const e of events) this.sink.publish(subject, { sessionId: this.sessionId, eventId: e.eventId, message: e.message });
  }

  private async release(): Promise<void> {
    for (let next = this.held[0]; next !== undefined && (await this.deliver(next)); next = this.held[0]) this.held.shift();
  }

  /** Tries the standalone stream, then request streams newest first; re-read after each refusal. */
  private async deliver(message: JsonRpcMessage): Promise<boolean> {
    const tried = new Set<string>();
    for (let target = this.nextTarget(tried); target !== undefined; target = this.nextTarget(tried)) {
      tried.add(target.subject);
      const event = this.replay?.append(target.key, message);
      const delivered = await this.sink
        .deliver(target.subject, { sessionId: this.sessionId, eventId: event?.eventId, message })
        .catch(() => false);
      if (delivered) return true;
      if (event) event.void = true;
      if (target.subject === this.standalone) this.standalone = undefined;
    }
    return false;
  }

  private nextTarget(tried: ReadonlySet<string>): { key: string; subject: string } | undefined {
    if (this.standalone !== undefined && !tried.has(this.standalone)) {
      return { key: STANDALONE_STREAM_KEY, subject: this.standalone };
    }
    const newestFirst = [...this.requestStreams].reverse();
    const found = newestFirst.find(([, subject]) => !tried.has(subject));
    return found && { key: found[0], subject: found[1] };
  }
}
