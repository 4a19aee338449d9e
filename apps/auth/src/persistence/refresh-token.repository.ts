import { IsNull, LessThanOrEqual, type Repository } from 'typeorm';
import type { Consumed, RefreshTokenRecord, RefreshTokenRepository } from './auth-store.port.js';
import type { RefreshTokenRow } from './entities.js';

export class SqlRefreshTokenRepository implements RefreshTokenRepository {
  constructor(private readonly rows: Repository<RefreshTokenRow>) {}

  async insert(token: RefreshTokenRecord): Promise<void> {
    await this.rows.insert({ ...token, usedAt: token.usedAt ?? null });
  }

  async find(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const row = await this.rows.findOneBy({ tokenHash });
    return row === null ? undefined : toRecord(row);
  }

  async use(tokenHash: string, now: number): Promise<Consumed<RefreshTokenRecord> | undefined> {
    // The conditional UPDATE is the single-use check: of two concurrent calls only one changes a row.
    const { affected } = await this.rows.update({ tokenHash, usedAt: IsNull() }, { usedAt: now });
    const row = await this.rows.findOneBy({ tokenHash });
    return row === null ? undefined : { record: toRecord(row), replayed: affected !== 1 };
  }

  async deleteExpired(now: number): Promise<void> {
    await this.rows.delete({ expiresAt: LessThanOrEqual(now) });
  }
}

function toRecord(row: RefreshTokenRow): RefreshTokenRecord {
  return { ...row, usedAt: row.usedAt ?? undefined };
}
