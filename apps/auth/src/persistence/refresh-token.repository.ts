import { IsNull, LessThanOrEqual, type Repository } from 'typeorm';
import type { Consumed, RefreshTokenRecord, RefreshTokenRepository, SealedSuccessor } from './auth-store.port.js';
import type { RefreshTokenRow } from './entities.js';

export class SqlRefreshTokenRepository implements RefreshTokenRepository {
  constructor(private readonly rows: Repository<RefreshTokenRow>) {}

  async insert(token: RefreshTokenRecord): Promise<void> {
    await this.rows.insert(toRow(token));
  }

  async find(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const row = await this.rows.findOneBy({ tokenHash });
    return row === null ? undefined : toRecord(row);
  }

  async rotate(
    tokenHash: string,
    successor: RefreshTokenRecord,
    sealed: SealedSuccessor | undefined,
    now: number,
  ): Promise<Consumed<RefreshTokenRecord> | undefined> {
    // The successor exists before anyone can be told about it, so "mark used + record successor" is one statement.
    await this.rows.insert(toRow(successor));
    // The conditional UPDATE is the single-use check: of two concurrent calls only one changes a row.
    const { affected } = await this.rows.update(
      { tokenHash, usedAt: IsNull() },
      { usedAt: now, successorSealed: sealed?.sealed ?? null, successorUntil: sealed?.until ?? null },
    );
    if (affected !== 1) await this.rows.delete({ tokenHash: successor.tokenHash, usedAt: IsNull() });
    const row = await this.rows.findOneBy({ tokenHash });
    return row === null ? undefined : { record: toRecord(row), replayed: affected !== 1 };
  }

  async deleteExpired(now: number): Promise<void> {
    await this.rows.delete({ expiresAt: LessThanOrEqual(now) });
    // A spent token keeps its row (reuse is still detected), not its sealed successor.
    await this.rows.update({ successorUntil: LessThanOrEqual(now) }, { successorSealed: null, successorUntil: null });
  }
}

function toRow(token: RefreshTokenRecord): RefreshTokenRow {
  return {
    tokenHash: token.tokenHash,
    grantId: token.grantId,
    expiresAt: token.expiresAt,
    usedAt: token.usedAt ?? null,
    successorSealed: token.successor?.sealed ?? null,
    successorUntil: token.successor?.until ?? null,
  };
}

function toRecord(row: RefreshTokenRow): RefreshTokenRecord {
  const { successorSealed, successorUntil, usedAt, ...rest } = row;
  return {
    ...rest,
    ...(usedAt !== null && { usedAt }),
    ...(successorSealed !== null && successorUntil !== null && { successor: { sealed: successorSealed, until: successorUntil } }),
  };
}
