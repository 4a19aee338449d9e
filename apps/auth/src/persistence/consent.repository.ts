import type { Repository } from 'typeorm';
import { sha256Base64Url } from '#crypto';
import type { ConsentRecord, ConsentRepository } from './auth-store.port.js';
import type { ConsentRow } from './entities.js';

const idOf = (sub: string, clientId: string): string => sha256Base64Url(JSON.stringify([sub, clientId]));

export class SqlConsentRepository implements ConsentRepository {
  constructor(private readonly rows: Repository<ConsentRow>) {}

  async find(sub: string, clientId: string): Promise<ConsentRecord | undefined> {
    const row = await this.rows.findOneBy({ id: idOf(sub, clientId) });
    return row === null
      ? undefined
      : { sub: row.sub, clientId: row.clientId, resources: row.resources, createdAt: row.createdAt, updatedAt: row.updatedAt };
  }

  async remember(sub: string, clientId: string, resources: string[], now: number): Promise<void> {
    const id = idOf(sub, clientId);
    // Insert-or-ignore, then a read-modify-write in a transaction: two approvals at once both count.
    await this.rows
      .createQueryBuilder()
      .insert()
      .values({ id, sub, clientId, resources: [], createdAt: now, updatedAt: now })
      .orIgnore()
      .execute();
    await this.rows.manager.transaction(async (manager) => {
      const rows = manager.getRepository<ConsentRow>(this.rows.target);
      const row = await rows.findOne({ where: { id }, lock: lockFor(rows) });
      const union = [...new Set([...(row?.resources ?? []), ...resources])];
      await rows.update({ id }, { resources: union, updatedAt: now });
    });
  }

  async forget(sub: string, clientId: string): Promise<void> {
    await this.rows.delete({ id: idOf(sub, clientId) });
  }
}

/** PostgreSQL locks the row; SQLite's write transaction is already exclusive. */
function lockFor(rows: Repository<ConsentRow>): { mode: 'pessimistic_write' } | undefined {
  return rows.manager.connection.options.type === 'postgres' ? { mode: 'pessimistic_write' } : undefined;
}
