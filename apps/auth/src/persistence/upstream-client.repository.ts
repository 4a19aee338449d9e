import type { Repository } from 'typeorm';
import type { UpstreamClientRecord, UpstreamClientRepository } from './auth-store.port.js';
import type { UpstreamClientRow } from './entities.js';

export class SqlUpstreamClientRepository implements UpstreamClientRepository {
  constructor(private readonly rows: Repository<UpstreamClientRow>) {}

  async find(server: string): Promise<UpstreamClientRecord | undefined> {
    const row = await this.rows.findOneBy({ server });
    if (row === null) return undefined;
    const { sealedClientSecret, metadata, ...rest } = row;
    return { ...rest, metadata: objectOf(metadata), ...(sealedClientSecret !== null && { sealedClientSecret }) };
  }

  async save(client: UpstreamClientRecord): Promise<void> {
    const row: UpstreamClientRow = {
      ...client,
      metadata: JSON.stringify(client.metadata),
      sealedClientSecret: client.sealedClientSecret ?? null,
    };
    await this.rows.upsert(row, ['server']);
  }

  async reseal(server: string, from: string, to: string): Promise<void> {
    await this.rows.update({ server, sealedClientSecret: from }, { sealedClientSecret: to });
  }

  async delete(server: string): Promise<void> {
    await this.rows.delete({ server });
  }
}

function objectOf(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value } : {};
}
