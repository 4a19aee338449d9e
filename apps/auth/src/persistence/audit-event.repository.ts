import { Brackets, LessThan, type Repository } from 'typeorm';
import type { AuditRecord } from '#contracts';
import { randomId } from '#crypto';
import type { AuditEventRepository, AuditQuery } from './auth-store.port.js';
import type { AuditEventRow } from './audit-event.schema.js';

/** Rows per INSERT: well under SQLite's 32,766 bound parameters at 14 columns. */
const INSERT_CHUNK = 500;

export class SqlAuditEventRepository implements AuditEventRepository {
  constructor(private readonly rows: Repository<AuditEventRow>) {}

  /** Records whose id is stored already (a batch sent again) are skipped. */
  async append(records: readonly AuditRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += INSERT_CHUNK) {
      await this.rows
        .createQueryBuilder()
        .insert()
        .values(records.slice(i, i + INSERT_CHUNK).map(toRow))
        .orIgnore()
        .execute();
    }
  }

  async list(query: AuditQuery): Promise<AuditRecord[]> {
    const select = this.rows
      .createQueryBuilder('e')
      .where('e.at >= :since', { since: query.since })
      .orderBy('e.at', 'ASC')
      .addOrderBy('e.id', 'ASC')
      .limit(query.limit);
    if (query.user !== undefined) {
      const user = query.user;
      select.andWhere(new Brackets((who) => who.where('e.email = :user', { user }).orWhere('e.sub = :user', { user })));
    }
    if (query.server !== undefined) select.andWhere('e.server = :server', { server: query.server });
    return (await select.getMany()).map(toRecord);
  }

  async deleteBefore(at: number): Promise<number> {
    return (await this.rows.delete({ at: LessThan(at) })).affected ?? 0;
  }
}

function toRow(record: AuditRecord): AuditEventRow {
  return {
    id: record.id ?? randomId(16),
    at: record.at,
    kind: record.kind,
    outcome: record.outcome,
    sub: record.sub ?? null,
    email: record.email ?? null,
    clientId: record.clientId ?? null,
    server: record.server ?? null,
    name: record.name ?? null,
    durationMs: record.durationMs ?? null,
    requestBytes: record.requestBytes ?? null,
    errorCode: record.errorCode ?? null,
    arguments: record.arguments ?? null,
    detail: record.detail ?? null,
  };
}

function toRecord(row: AuditEventRow): AuditRecord {
  const record: AuditRecord = { id: row.id, at: row.at, kind: row.kind, outcome: row.outcome };
  for (const field of ['sub', 'email', 'clientId', 'server', 'name', 'arguments', 'detail'] as const) {
    const value = row[field];
    if (value !== null) record[field] = value;
  }
  for (const field of ['durationMs', 'requestBytes', 'errorCode'] as const) {
    const value = row[field];
    if (value !== null) record[field] = value;
  }
  return record;
}
