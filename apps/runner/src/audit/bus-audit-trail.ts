import type { Bus } from '#bus';
import {
  AckReplySchema,
  AUDIT_BATCH_MAX,
  auditAppendSubject,
  AuditAppendRequestSchema,
  boundedAuditRecord,
  decode,
  encode,
  type AuditRecord,
} from '#contracts';
import type { Logger } from '#observability';
import type { AuditTrail } from './audit-trail.port.js';

export interface BusAuditTrailOptions {
  /** How often queued records are sent. */
  flushEveryMs: number;
  /** Records held while auth cannot take them; beyond this the oldest are dropped (and counted in the log). */
  maxQueued: number;
  timeoutMs: number;
}

const DEFAULTS: BusAuditTrailOptions = { flushEveryMs: 1000, maxQueued: 10_000, timeoutMs: 5000 };

/**
 * Sends audit records to auth in batches, off the call path: a call only queues its record, and
 * only the timer sends (so no batch goes out in the trace of the call that happened to fill it).
 * A batch auth did not confirm goes back to the front of the queue and is sent again.
 */
export class BusAuditTrail implements AuditTrail {
  private queue: AuditRecord[] = [];
  private sending: Promise<void> | undefined;
  private dropped = 0;
  private unreachable = false;
  private readonly timer: NodeJS.Timeout;
  private readonly options: BusAuditTrailOptions;

  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
    options: Partial<BusAuditTrailOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.timer = setInterval(() => void this.flush(), this.options.flushEveryMs);
    this.timer.unref();
  }

  record(record: AuditRecord): void {
    this.queue.push(boundedAuditRecord(record));
    if (this.queue.length > this.options.maxQueued) this.dropped += this.queue.splice(0, this.queue.length - this.options.maxQueued).length;
  }

  /** Sends everything queued, one batch at a time; resolves when done or when auth stops answering. */
  flush(): Promise<void> {
    this.sending ??= this.sendAll().finally(() => (this.sending = undefined));
    return this.sending;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    if (this.queue.length > 0) this.log.warn({ records: this.queue.length }, 'audit records not delivered to auth before shutdown');
  }

  private async sendAll(): Promise<void> {
    this.reportDropped();
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, AUDIT_BATCH_MAX);
      if (!(await this.send(batch))) {
        this.queue.unshift(...batch);
        return;
      }
    }
  }

  /** True when the batch is done with: stored, or refused by auth (sent again, it would be refused again). */
  private async send(records: AuditRecord[]): Promise<boolean> {
    try {
      const reply = await this.bus.request(auditAppendSubject, encode(AuditAppendRequestSchema, { records }), {
        timeoutMs: this.options.timeoutMs,
      });
      const ack = decode(AckReplySchema, reply.data);
      if (!ack.ok) return this.refused(ack.error, records.length);
      if (ack.value.ok) return this.delivered();
      // Refused as malformed, it would be refused again: drop it. Anything else (the database is down) is retried.
      const { code, message } = ack.value.error;
      return code === 'BAD_REQUEST' ? this.refused(message, records.length) : this.undelivered(message, records.length);
    } catch (err) {
      return this.undelivered(err, records.length);
    }
  }

  private refused(why: string, records: number): true {
    this.log.error({ records, refused: why }, 'auth refused audit records; dropped');
    return this.delivered();
  }

  private delivered(): true {
    this.unreachable = false;
    return true;
  }

  /** Logged once per outage, not once per flush. */
  private undelivered(why: unknown, records: number): false {
    if (!this.unreachable) this.log.warn({ err: why, records }, 'audit records not yet stored by auth; will retry');
    this.unreachable = true;
    return false;
  }

  private reportDropped(): void {
    if (this.dropped === 0) return;
    this.log.error({ dropped: this.dropped }, 'audit records dropped: auth did not take them and the queue was full');
    this.dropped = 0;
  }
}
