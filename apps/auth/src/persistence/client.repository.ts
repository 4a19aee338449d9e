import type { Repository } from 'typeorm';
import type { ClientRecord, ClientRepository } from './auth-store.port.js';
import type { ClientRow } from './entities.js';

export class SqlClientRepository implements ClientRepository {
  constructor(private readonly rows: Repository<ClientRow>) {}

  async insert(client: ClientRecord): Promise<void> {
    await this.rows.insert({
      ...client,
      secretHash: client.secretHash ?? null,
      clientName: client.clientName ?? null,
      scope: client.scope ?? null,
    });
  }

  async find(clientId: string): Promise<ClientRecord | undefined> {
    const row = await this.rows.findOneBy({ clientId });
    return row === null ? undefined : toRecord(row);
  }
}

function toRecord(row: ClientRow): ClientRecord {
  return {
    ...row,
    secretHash: row.secretHash ?? undefined,
    clientName: row.clientName ?? undefined,
    scope: row.scope ?? undefined,
  };
}
