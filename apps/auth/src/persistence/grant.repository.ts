import { IsNull, type Repository } from 'typeorm';
import type { GrantRecord, GrantRepository } from './auth-store.port.js';
import type { GrantRow } from './entities.js';

export class SqlGrantRepository implements GrantRepository {
  constructor(private readonly rows: Repository<GrantRow>) {}

  async insert(grant: GrantRecord): Promise<void> {
    await this.rows.insert({ ...grant, revokedAt: grant.revokedAt ?? null });
  }

  async find(id: string): Promise<GrantRecord | undefined> {
    const row = await this.rows.findOneBy({ id });
    return row === null ? undefined : { ...row, revokedAt: row.revokedAt ?? undefined };
  }

  async revoke(id: string, now: number): Promise<boolean> {
    // Conditional, so of two concurrent revocations exactly one reports it revoked the grant.
    const { affected } = await this.rows.update({ id, revokedAt: IsNull() }, { revokedAt: now });
    return affected === 1;
  }
}
