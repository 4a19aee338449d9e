import { LessThan, LessThanOrEqual, MoreThan, type Repository } from 'typeorm';
import type { RevocationRecord, RevocationRepository } from './auth-store.port.js';
import type { RevocationRow } from './entities.js';

export class SqlRevocationRepository implements RevocationRepository {
  constructor(private readonly rows: Repository<RevocationRow>) {}

  async insert(revocation: RevocationRecord): Promise<void> {
    const { kind, value, until } = revocation;
    // Insert-or-ignore then raise-only update: portable (SQLite and PostgreSQL), and `until` only ever grows.
    await this.rows.createQueryBuilder().insert().values({ kind, value, until }).orIgnore().execute();
    await this.rows.update({ kind, value, until: LessThan(until) }, { until });
  }

  async listActive(now: number): Promise<RevocationRecord[]> {
    const rows = await this.rows.find({ where: { until: MoreThan(now) }, order: { until: 'ASC' } });
    return rows.map(({ kind, value, until }) => ({ kind, value, until }));
  }

  async deleteExpired(now: number): Promise<void> {
    await this.rows.delete({ until: LessThanOrEqual(now) });
  }
}
