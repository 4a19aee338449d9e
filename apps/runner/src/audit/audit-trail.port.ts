import type { AuditRecord } from '#contracts';

/** Where a runner's audit records go; `record` never blocks and never throws. */
export interface AuditTrail {
  record(record: AuditRecord): void;
  /** Sends what is still queued (best effort) and stops. */
  close(): Promise<void>;
}
