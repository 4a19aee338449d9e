import type { Repository } from 'typeorm';
import type { UserCredentialRecord, UserCredentialRepository } from './auth-store.port.js';
import type { UserCredentialRow } from './entities.js';

export class SqlUserCredentialRepository implements UserCredentialRepository {
  constructor(private readonly rows: Repository<UserCredentialRow>) {}

  async find(sub: string, server: string): Promise<UserCredentialRecord | undefined> {
    const row = await this.rows.findOneBy({ sub, server });
    return row === null ? undefined : toRecord(row);
  }

  async listBySub(sub: string): Promise<UserCredentialRecord[]> {
    return (await this.rows.find({ where: { sub }, order: { server: 'ASC' } })).map(toRecord);
  }

  async listByEmail(email: string): Promise<UserCredentialRecord[]> {
    return (await this.rows.find({ where: { email }, order: { server: 'ASC' } })).map(toRecord);
  }

  async save(credential: UserCredentialRecord): Promise<void> {
    const { sub, server, createdAt, ...replaced } = toRow(credential);
    if (await this.replace(sub, server, replaced)) return;
    try {
      await this.rows.insert({ sub, server, createdAt, ...replaced, refreshLockedUntil: null });
    } catch (err) {
      // Another request stored it between our UPDATE and INSERT: replace theirs, as the later write.
      if (!(await this.replace(sub, server, replaced))) throw err;
    }
  }

  async reseal(sub: string, server: string, from: string, to: string): Promise<boolean> {
    const { affected } = await this.rows.update({ sub, server, sealedSecret: from }, { sealedSecret: to });
    return affected === 1;
  }

  async replaceSecret(
    sub: string,
    server: string,
    from: string,
    to: Pick<UserCredentialRecord, 'sealedSecret' | 'updatedAt' | 'expiresAt'>,
  ): Promise<boolean> {
    const { affected } = await this.rows.update(
      { sub, server, sealedSecret: from },
      { sealedSecret: to.sealedSecret, updatedAt: to.updatedAt, expiresAt: to.expiresAt ?? null },
    );
    return affected === 1;
  }

  async delete(sub: string, server: string): Promise<boolean> {
    const { affected } = await this.rows.delete({ sub, server });
    return affected === 1;
  }

  async lock(sub: string, server: string, now: number, until: number): Promise<boolean> {
    // The conditional UPDATE is the lock: of concurrent callers on any replica, only one changes the row.
    const { affected } = await this.rows
      .createQueryBuilder()
      .update()
      .set({ refreshLockedUntil: until })
      .where('sub = :sub AND server = :server AND (refresh_locked_until IS NULL OR refresh_locked_until <= :now)', { sub, server, now })
      .execute();
    return affected === 1;
  }

  async unlock(sub: string, server: string, until: number): Promise<void> {
    await this.rows.update({ sub, server, refreshLockedUntil: until }, { refreshLockedUntil: null });
  }

  private async replace(
    sub: string,
    server: string,
    values: Omit<UserCredentialRow, 'sub' | 'server' | 'createdAt' | 'refreshLockedUntil'>,
  ) {
    const { affected } = await this.rows.update({ sub, server }, values);
    return affected === 1;
  }
}

function toRow(record: UserCredentialRecord): Omit<UserCredentialRow, 'refreshLockedUntil'> {
  return { ...record, email: record.email ?? null, expiresAt: record.expiresAt ?? null };
}

function toRecord(row: UserCredentialRow): UserCredentialRecord {
  const { sub, server, type, sealedSecret, createdAt, updatedAt, email, expiresAt } = row;
  return {
    sub,
    server,
    type,
    sealedSecret,
    createdAt,
    updatedAt,
    ...(email !== null && { email }),
    ...(expiresAt !== null && { expiresAt }),
  };
}
