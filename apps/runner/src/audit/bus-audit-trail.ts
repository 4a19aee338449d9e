import type { Bus } from '#bus';
import {
  AckReplySchema,
  AUDIT_BATCH_MAX,
  AUDIT_TEXT_FIELDS,
  auditAppendSubject,
  AuditAppendRequestSchema,
  boundedAuditRecord,
  decode,
  encodeJson,
  isAuditRecord,
  type AuditRecord,
} from '#contracts';
import { timeOrderedKey } from '#crypto';
import type { Logger } from '#observability';
import type { AuditTrail } from './audit-trail.port.js';

export interface BusAuditTrailOptions {
  /** How often queued records are sent. */
  flushEveryMs: number;
  /** Records held while auth cannot take them; beyond this (or maxQueuedBytes) the oldest are dropped, and counted in the log. */
  maxQueued: number;
  maxQueuedBytes: number;
  timeoutMs: number;
  /** Longest time `close` spends sending what is left (each request then waits at most this long too). */
  closeWithinMs: number;
}

const DEFAULTS: BusAuditTrailOptions = {
  flushEveryMs: 1000,
  maxQueued: 10_000,
  maxQueuedBytes: 64 * 1024 * 1024,
  timeoutMs: 5000,
  closeWithinMs: 1500,
};
/** Room in a bus message for the batch's own JSON around its records. */
const ENVELOPE_BYTES = 1024;
/** Batches stay well under NATS's 1 MiB default even where the bus takes more. */
const MAX_BATCH_BYTES = 512 * 1024;

interface Queued {
  record: AuditRecord;
  /** An estimate from its text until it is checked at send time, then its encoded size. */
  bytes: number;
  /** Its JSON, made when it is checked at send time; the batch is joined from these. */
  json: string | undefined;
}

/** Room for the record's numbers, names and JSON punctuation beside its text. */
const RECORD_OVERHEAD_BYTES = 256;

/**
 * Sends audit records to auth in batches, off the call path: a call only queues its record, and
 * only the timer sends (so no batch goes out in the trace of the call that happened to fill it).
 * A batch fits one bus message; one auth did not confirm goes back to the front of the queue and
 * is sent again, under the same record ids, so auth stores it once.
 */
export class BusAuditTrail implements AuditTrail {
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private sending: Promise<void> | undefined;
  private dropped = 0;
  private unreachable = false;
  private closing = false;
  private readonly timer: NodeJS.Timeout;
  private readonly options: BusAuditTrailOptions;
  private readonly batchBytes: number;

  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
    options: Partial<BusAuditTrailOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.batchBytes = Math.min(MAX_BATCH_BYTES, bus.maxPayloadBytes - ENVELOPE_BYTES);
    this.timer = setInterval(() => void this.flush(), this.options.flushEveryMs);
    this.timer.unref();
  }

  /** Cheap on purpose (it runs as calls end): the record is encoded and checked when it is sent. */
  record(record: AuditRecord): void {
    const bounded = boundedAuditRecord(record, timeOrderedKey(record.at));
    const queued = { record: bounded, bytes: estimatedBytes(bounded), json: undefined };
    this.queue.push(queued);
    this.queuedBytes += queued.bytes;
    while (this.queue.length > this.options.maxQueued || this.queuedBytes > this.options.maxQueuedBytes) {
      this.queuedBytes -= this.queue.shift()?.bytes ?? 0;
      this.dropped += 1;
    }
  }

  /** Sends everything queued, one batch at a time; resolves when done or when auth stops answering. */
  flush(): Promise<void> {
    this.sending ??= this.sendAll().finally(() => (this.sending = undefined));
    return this.sending;
  }

  /** Within the shutdown's grace: an auth that is stopping too may never answer. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.closeWithinMs)));
    await Promise.race([this.flush(), late]);
    clearTimeout(timer);
    this.reportDropped();
    if (this.queue.length > 0) this.log.warn({ records: this.queue.length }, 'audit records not delivered to auth before shutdown');
  }

  /** The record with its encoded size, its arguments left out if it would not fit a batch with them; undefined if it is not valid. */
  private fitted(record: AuditRecord): Queued | undefined {
    const json = JSON.stringify(record);
    let bytes = Buffer.byteLength(json);
    if (bytes > this.batchBytes && record.arguments !== undefined) {
      return this.fitted({ ...record, arguments: undefined, detail: 'arguments left out: too large for one message' });
    }
    if (bytes > this.batchBytes || !isAuditRecord(record)) {
      this.log.error({ kind: record.kind, server: record.server }, 'audit record dropped: it does not fit the audit contract');
      return undefined;
    }
    bytes += 1; // the comma between records
    return { record, bytes, json };
  }

  private async sendAll(): Promise<void> {
    this.reportDropped();
    while (this.queue.length > 0) {
      const batch = this.nextBatch();
      if (batch.length === 0) continue;
      const bytes = batch.reduce((sum, queued) => sum + queued.bytes, 0);
      this.queuedBytes -= bytes;
      if (!(await this.send(batch))) {
        this.queue.unshift(...batch);
        this.queuedBytes += bytes;
        return;
      }
    }
  }

  /** As many records from the front as one message takes (at least one: each fits on its own); records that fit no message are dropped. */
  private nextBatch(): Queued[] {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && count < AUDIT_BATCH_MAX) {
      const queued = this.checked(count);
      if (!queued) continue;
      if (count > 0 && bytes + queued.bytes > this.batchBytes) break;
      bytes += queued.bytes;
      count += 1;
    }
    return this.queue.splice(0, count);
  }

  /** The queued record at `index`, encoded and checked (replaced there); undefined, and removed, when it fits no message. */
  private checked(index: number): Queued | undefined {
    const queued = this.queue[index];
    if (!queued || queued.json !== undefined) return queued;
    const fitted = this.fitted(queued.record);
    this.queuedBytes += (fitted?.bytes ?? 0) - queued.bytes;
    if (fitted) this.queue[index] = fitted;
    else this.queue.splice(index, 1);
    return fitted;
  }

  /** True when the batch is done with: stored, or refused by auth (sent again, it would be refused again). */
  private async send(batch: Queued[]): Promise<boolean> {
    const records = batch.map((queued) => queued.record);
    // Each record was stringified once, when it was checked: the batch joins those texts.
    const json = `{"records":[${batch.map((queued) => queued.json ?? JSON.stringify(queued.record)).join(',')}]}`;
    try {
      const reply = await this.bus.request(auditAppendSubject, encodeJson(AuditAppendRequestSchema, { records }, json), {
        timeoutMs: this.closing ? this.options.closeWithinMs : this.options.timeoutMs,
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
    this.log.error({ records, refused: why.slice(0, 500) }, 'auth refused audit records; dropped');
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

/** A record's size as its text makes it, without encoding it. */
function estimatedBytes(record: AuditRecord): number {
  let bytes = RECORD_OVERHEAD_BYTES;
  for (const field of AUDIT_TEXT_FIELDS) bytes += record[field]?.length ?? 0;
  return bytes;
}
