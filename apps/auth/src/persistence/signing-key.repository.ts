import { IsNull, type Repository } from 'typeorm';
import type { SigningKeyRecord, SigningKeyRepository } from './auth-store.port.js';
import type { SigningKeyRow } from './entities.js';

export class SqlSigningKeyRepository implements SigningKeyRepository {
  constructor(private readonly rows: Repository<SigningKeyRow>) {}

  async list(): Promise<SigningKeyRecord[]> {
    const rows = await this.rows.find({ order: { createdAt: 'DESC', kid: 'ASC' } });
    return rows.map((row) => ({ ...row, retiredAt: row.retiredAt ?? undefined }));
  }

  async insert(key: SigningKeyRecord): Promise<void> {
    await this.rows.insert({ ...key, retiredAt: key.retiredAt ?? null });
  }

  /** Keeps the first retirement time: retiring again does not extend how long its tokens verify. */
  async retire(kid: string, now: number): Promise<void> {
    await this.rows.update({ kid, retiredAt: IsNull() }, { retiredAt: now });
  }

  async reseal(kid: string, from: string, to: string): Promise<void> {
    await this.rows.update({ kid, sealedPrivateJwk: from }, { sealedPrivateJwk: to });
  }
}
