import { LessThanOrEqual, type Repository } from 'typeorm';
import type { UpstreamAuthorizationRecord, UpstreamAuthorizationRepository } from './auth-store.port.js';
import type { UpstreamAuthorizationRow } from './entities.js';

export class SqlUpstreamAuthorizationRepository implements UpstreamAuthorizationRepository {
  constructor(private readonly rows: Repository<UpstreamAuthorizationRow>) {}

  async insert(pending: UpstreamAuthorizationRecord): Promise<void> {
    await this.rows.insert({ ...pending, email: pending.email ?? null });
  }

  async find(stateHash: string, now: number): Promise<UpstreamAuthorizationRecord | undefined> {
    const row = await this.rows.findOneBy({ stateHash });
    return row === null || row.expiresAt <= now ? undefined : toRecord(row);
  }

  async take(stateHash: string, now: number): Promise<UpstreamAuthorizationRecord | undefined> {
    const row = await this.rows.findOneBy({ stateHash });
    if (row === null) return undefined;
    // Only the call whose DELETE removed the row gets it: a concurrent take sees 0 rows affected.
    const { affected } = await this.rows.delete({ stateHash });
    if (affected !== 1 || row.expiresAt <= now) return undefined;
    return toRecord(row);
  }

  async deleteExpired(now: number): Promise<void> {
    await this.rows.delete({ expiresAt: LessThanOrEqual(now) });
  }
}

function toRecord(row: UpstreamAuthorizationRow): UpstreamAuthorizationRecord {
  const { email, ...rest } = row;
  return { ...rest, ...(email !== null && { email }) };
}
