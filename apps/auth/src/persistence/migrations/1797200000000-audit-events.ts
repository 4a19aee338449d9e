import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { key, text, time, varchar } from './portable-columns.js';

const auditEvents = (): Table =>
  new Table({
    name: 'audit_events',
    columns: [
      key('id'),
      time('at'),
      varchar('kind'),
      varchar('outcome'),
      varchar('sub', true),
      varchar('email', true),
      text('client_id', true),
      varchar('server', true),
      text('name', true),
      time('duration_ms', true),
      time('request_bytes', true),
      time('error_code', true),
      text('arguments', true),
      text('detail', true),
    ],
    // The audit command reads by time, optionally for one person or one server.
    indices: [
      { name: 'idx_audit_events_at', columnNames: ['at'] },
      { name: 'idx_audit_events_email_at', columnNames: ['email', 'at'] },
      { name: 'idx_audit_events_server_at', columnNames: ['server', 'at'] },
    ],
  });

/** The audit trail: calls relayed by runners, and logins, consents, revocations and credential changes at auth. */
export class AuditEvents1797200000000 implements MigrationInterface {
  readonly name = 'AuditEvents1797200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(auditEvents());
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('audit_events');
  }
}
