import { EntitySchema } from 'typeorm';
import type { AuditKind, AuditOutcome } from '#contracts';
import { key, text, time, varchar, type Columns } from './entities.js';

/** One audit record as stored (migrations/1797200000000-audit-events.ts); absent values are NULL. */
export interface AuditEventRow {
  id: string;
  at: number;
  kind: AuditKind;
  outcome: AuditOutcome;
  sub: string | null;
  email: string | null;
  clientId: string | null;
  server: string | null;
  name: string | null;
  durationMs: number | null;
  requestBytes: number | null;
  errorCode: number | null;
  arguments: string | null;
  detail: string | null;
}

export const auditEventSchema = new EntitySchema<AuditEventRow>({
  name: 'AuditEvent',
  tableName: 'audit_events',
  columns: {
    id: key('id'),
    at: time('at'),
    kind: varchar('kind'),
    outcome: varchar('outcome'),
    sub: varchar('sub', true),
    email: varchar('email', true),
    clientId: text('client_id', true),
    server: varchar('server', true),
    name: text('name', true),
    durationMs: time('duration_ms', true),
    requestBytes: time('request_bytes', true),
    errorCode: time('error_code', true),
    arguments: text('arguments', true),
    detail: text('detail', true),
  } satisfies Columns<AuditEventRow>,
});
