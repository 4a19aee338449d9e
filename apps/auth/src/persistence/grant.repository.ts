import { IsNull, MoreThan, type Repository } from 'typeorm';
import type { GrantRecord, GrantRepository } from './auth-store.port.js';
import type { GrantRow } from './entities.js';

export class SqlGrantRepository implements GrantRepository {
  constructor(private readonly rows: Repository<GrantRow>) {}

  async insert(grant: GrantRecord): Promise<void> {
    await this.rows.insert({
      ...grant,
      subjectSub: grant.subject.sub,
      revokedAt: grant.revokedAt ?? null,
      idpRefreshSealed: grant.idpRefreshSealed ?? null,
    });
  }

  async find(id: string): Promise<GrantRecord | undefined> {
    const row = await this.rows.findOneBy({ id });
    return row === null ? undefined : toRecord(row);
  }

  async keepIdpRefresh(id: string, sealed: string): Promise<void> {
    await this.rows.update({ id }, { idpRefreshSealed: sealed });
  }

  async listActive(sub: string, now: number): Promise<GrantRecord[]> {
    const rows = await this.rows.find({
      where: { subjectSub: sub, revokedAt: IsNull(), expiresAt: MoreThan(now) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return rows.map(toRecord);
  }

  async revoke(id: string, now: number): Promise<boolean> {
    // Conditional, so of two concurrent revocations exactly one reports it revoked the grant.
    const { affected } = await this.rows.update({ id, revokedAt: IsNull() }, { revokedAt: now });
    return affected === 1;
  }
}

function toRecord({ subjectSub: _bySub, revokedAt, idpRefreshSealed, ...row }: GrantRow): GrantRecord {
  return { ...row, ...(revokedAt !== null && { revokedAt }), ...(idpRefreshSealed !== null && { idpRefreshSealed }) };
}
