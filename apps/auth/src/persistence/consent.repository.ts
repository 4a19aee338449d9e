import type { Repository } from 'typeorm';
import type { ConsentRecord, ConsentRepository } from './auth-store.port.js';
import type { ConsentRow } from './entities.js';

export class SqlConsentRepository implements ConsentRepository {
  constructor(private readonly rows: Repository<ConsentRow>) {}

  async find(sub: string, clientId: string): Promise<ConsentRecord | undefined> {
    const row = await this.rows.findOneBy({ sub, clientId });
    return row ?? undefined;
  }

  async save(consent: ConsentRecord): Promise<void> {
    const { sub, clientId, resources, createdAt } = consent;
    await this.rows.upsert({ sub, clientId, resources, createdAt }, ['sub', 'clientId']);
  }
}
