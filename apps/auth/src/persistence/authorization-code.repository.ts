import { IsNull, LessThanOrEqual, type Repository } from 'typeorm';
import type { AuthorizationCodeRecord, AuthorizationCodeRepository, Consumed } from './auth-store.port.js';
import type { AuthorizationCodeRow } from './entities.js';

export class SqlAuthorizationCodeRepository implements AuthorizationCodeRepository {
  constructor(private readonly rows: Repository<AuthorizationCodeRow>) {}

  async insert(code: AuthorizationCodeRecord): Promise<void> {
    await this.rows.insert({ ...code, consumedAt: code.consumedAt ?? null });
  }

  async consume(codeHash: string, now: number): Promise<Consumed<AuthorizationCodeRecord> | undefined> {
    // The conditional UPDATE is the single-use check: of two concurrent calls only one changes a row.
    const { affected } = await this.rows.update({ codeHash, consumedAt: IsNull() }, { consumedAt: now });
    const row = await this.rows.findOneBy({ codeHash });
    return row === null ? undefined : { record: toRecord(row), replayed: affected !== 1 };
  }

  async deleteExpired(now: number): Promise<void> {
    await this.rows.delete({ expiresAt: LessThanOrEqual(now) });
  }
}

function toRecord(row: AuthorizationCodeRow): AuthorizationCodeRecord {
  return { ...row, consumedAt: row.consumedAt ?? undefined };
}
