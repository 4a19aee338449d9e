import { boundedAuditRecord, type AuditRecord } from '#contracts';
import type { Logger } from '#observability';
import type { AuditEventRepository } from '../persistence/auth-store.port.js';

/** What auth's own code records (logins, consents, revocations, credential changes); never blocks, never throws. */
export interface AuditRecorder {
  record(record: AuditRecord): void;
}

export const noAuditRecorder: AuditRecorder = { record: () => undefined };

const FLUSH_EVERY_MS = 1000;
const MAX_QUEUED = 10_000;

/**
 * Auth's writer of audit records. Its own events are queued and written in batches; runners'
 * batches are written at once, so their acknowledgement means stored. Old records go after
 * `retentionMs` (0: never).
 */
export class AuditLog implements AuditRecorder {
  private queue: AuditRecord[] = [];
  private writing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly events: AuditEventRepository,
    private readonly log: Logger,
    private readonly retentionMs: number,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  record(record: AuditRecord): void {
    if (this.queue.length >= MAX_QUEUED)
      return this.log.error({ kind: record.kind }, 'audit record dropped: the database is not keeping up');
    this.queue.push(boundedAuditRecord(record));
  }

  /** Stores a runner's batch; rejects when the database does. */
  append(records: readonly AuditRecord[]): Promise<void> {
    return this.events.append(records);
  }

  /** Deletes what is older than the retention; returns how many went. */
  async purge(now: number): Promise<number> {
    return this.retentionMs > 0 ? this.events.deleteBefore(now - this.retentionMs) : 0;
  }

  flush(): Promise<void> {
    this.writing ??= this.writeQueued().finally(() => (this.writing = undefined));
    return this.writing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async writeQueued(): Promise<void> {
    const batch = this.queue.splice(0);
    if (batch.length === 0) return;
    try {
      await this.events.append(batch);
    } catch (err) {
      // Back to the front, to be written with the next batch; the cap above bounds what waits.
      this.queue.unshift(...batch);
      this.log.warn({ err, records: batch.length }, 'audit records not yet written; will retry');
    }
  }
}
