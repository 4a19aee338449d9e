import type { Database } from 'better-sqlite3';
import { Brackets, LessThan, type Repository } from 'typeorm';
import { BetterSqlite3Driver } from 'typeorm/driver/better-sqlite3/BetterSqlite3Driver.js';
import { AUDIT_TEXT_FIELDS, type AuditRecord } from '#contracts';
import { timeOrderedKey } from '#crypto';
import type { AuditEventRepository, AuditQuery } from './auth-store.port.js';
import type { AuditEventRow } from './audit-event.schema.js';

/** Rows per INSERT: well under SQLite's 32,766 bound parameters at 14 columns. */
const INSERT_CHUNK = 500;

export class SqlAuditEventRepository implements AuditEventRepository {
  private sqliteInsert: ((rows: AuditEventRow[]) => void) | undefined;

  constructor(private readonly rows: Repository<AuditEventRow>) {}

  /** Records whose id is stored already (a batch sent again) are skipped. */
  async append(records: readonly AuditRecord[]): Promise<void> {
    const { driver } = this.rows.manager.connection;
    if (driver instanceof BetterSqlite3Driver) {
      this.sqliteInsert ??= sqliteBulkInsert(this.rows, driver);
      return this.sqliteInsert(records.map(toRow));
    }
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

/**
 * SQLite: one prepared INSERT OR IGNORE run per row, all in one transaction. The audit trail writes
 * a row per tool call, and the query builder's statement per chunk cost the all-in-one gateway
 * about 5% of its CPU at a thousand calls a second; this costs a tenth of that. All or nothing, as
 * the chunked INSERT was: a row SQLite refuses fails the call.
 */
function sqliteBulkInsert(rows: Repository<AuditEventRow>, driver: BetterSqlite3Driver): (values: AuditEventRow[]) => void {
  // TypeORM types the connection `any`: with this driver it is a better-sqlite3 Database.
  const db = driver.databaseConnection as Database;
  const columns = rows.metadata.columns.map((c) => ({
    property: c.propertyName as keyof AuditEventRow,
    name: driver.escape(c.databaseName),
  }));
  const statement = db.prepare(
    `INSERT OR IGNORE INTO ${driver.escape(rows.metadata.tableName)} (${columns.map((c) => c.name).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
  );
  return db.transaction((values: AuditEventRow[]) => {
    for (const row of values) statement.run(columns.map((c) => row[c.property]));
  });
}

function toRow(record: AuditRecord): AuditEventRow {
  return {
    id: record.id ?? timeOrderedKey(record.at),
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
  for (const field of AUDIT_TEXT_FIELDS) {
    const value = row[field];
    if (value !== null) record[field] = value;
  }
  for (const field of ['durationMs', 'requestBytes', 'errorCode'] as const) {
    const value = row[field];
    if (value !== null) record[field] = value;
  }
  return record;
}
