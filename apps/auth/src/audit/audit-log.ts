import { boundedAuditRecord, type AuditRecord } from '#contracts';
import { timeOrderedKey } from '#crypto';
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
 * batches are written at once, so their acknowledgement means stored. A record the database
 * refuses as data (not an outage) is dropped alone, never with its batch. Old records go after
 * `retentionMs` (0: never).
 */
export class AuditLog implements AuditRecorder {
  private queue: AuditRecord[] = [];
  private writing: Promise<void> | undefined;
  private dropped = 0;
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
    if (this.queue.length >= MAX_QUEUED) return void (this.dropped += 1);
    this.queue.push(boundedAuditRecord(record, timeOrderedKey(record.at)));
  }

  /** Stores a runner's batch; rejects when the database is unavailable. */
  async append(records: readonly AuditRecord[]): Promise<void> {
    try {
      await this.events.append(records);
    } catch (err) {
      if (!isDataError(err)) throw err;
      await this.appendOneByOne(records);
    }
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
    if (this.dropped > 0) this.log.error({ dropped: this.dropped }, 'audit records dropped: the database did not keep up');
    this.dropped = 0;
    const batch = this.queue.splice(0);
    if (batch.length === 0) return;
    try {
      await this.append(batch);
    } catch (err) {
      // Back to the front, written with the next batch (what was stored is skipped by its id).
      this.queue.unshift(...batch);
      this.log.warn({ err, records: batch.length }, 'audit records not yet written; will retry');
    }
  }

  private async appendOneByOne(records: readonly AuditRecord[]): Promise<void> {
    for (const record of records) {
      try {
        await this.events.append([record]);
      } catch (err) {
        if (!isDataError(err)) throw err;
        this.log.error({ err, kind: record.kind, server: record.server }, 'audit record refused by the database; dropped');
      }
    }
  }
}

/** PostgreSQL's data exceptions and integrity violations (SQLSTATE classes 22, 23), SQLite's constraint and type errors: the record, not the database. */
function isDataError(err: unknown): boolean {
  const driverError: unknown = typeof err === 'object' && err !== null && 'driverError' in err ? err.driverError : err;
  const code = typeof driverError === 'object' && driverError !== null && 'code' in driverError ? driverError.code : undefined;
  if (typeof code !== 'string') return false;
  return /^2[23][0-9A-Z]{3}$/.test(code) || /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(code);
}
