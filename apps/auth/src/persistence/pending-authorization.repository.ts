import { LessThanOrEqual, type Repository } from 'typeorm';
import type { PendingAuthorizationRecord, PendingAuthorizationRepository } from './auth-store.port.js';
import type { PendingAuthorizationRow } from './entities.js';

type Patch = Parameters<PendingAuthorizationRepository['update']>[1];

export class SqlPendingAuthorizationRepository implements PendingAuthorizationRepository {
  constructor(private readonly rows: Repository<PendingAuthorizationRow>) {}

  async insert(pending: PendingAuthorizationRecord): Promise<void> {
    await this.rows.insert({
      ...pending,
      idpNonce: pending.idpNonce ?? null,
      idpCodeVerifier: pending.idpCodeVerifier ?? null,
      approvedResources: pending.approvedResources ?? null,
    });
  }

  async find(id: string, now: number): Promise<PendingAuthorizationRecord | undefined> {
    const row = await this.rows.findOneBy({ id });
    return row === null || row.expiresAt <= now ? undefined : toRecord(row);
  }

  async update(id: string, patch: Patch): Promise<void> {
    const set: Partial<PendingAuthorizationRow> = {};
    if (patch.idpNonce !== undefined) set.idpNonce = patch.idpNonce;
    if (patch.idpCodeVerifier !== undefined) set.idpCodeVerifier = patch.idpCodeVerifier;
    if (patch.approvedResources !== undefined) set.approvedResources = patch.approvedResources;
    // TypeORM refuses an UPDATE with nothing to set.
    if (Object.keys(set).length === 0) return;
    await this.rows.update({ id }, set);
  }

  async take(id: string, now: number): Promise<PendingAuthorizationRecord | undefined> {
    const row = await this.rows.findOneBy({ id });
    if (row === null) return undefined;
    // Only the call whose DELETE removed the row gets it: a concurrent take sees 0 rows affected.
    const { affected } = await this.rows.delete({ id });
    return affected === 1 && row.expiresAt > now ? toRecord(row) : undefined;
  }

  async deleteExpired(now: number): Promise<void> {
    await this.rows.delete({ expiresAt: LessThanOrEqual(now) });
  }
}

function toRecord(row: PendingAuthorizationRow): PendingAuthorizationRecord {
  return {
    ...row,
    idpNonce: row.idpNonce ?? undefined,
    idpCodeVerifier: row.idpCodeVerifier ?? undefined,
    approvedResources: row.approvedResources ?? undefined,
  };
}
