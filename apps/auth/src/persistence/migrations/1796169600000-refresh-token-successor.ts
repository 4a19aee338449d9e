import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const TABLE = 'refresh_tokens';
const INDEX = 'idx_refresh_tokens_successor_until';

/** Built afresh per run: TypeORM may annotate the objects it is given. */
const columns = (): TableColumn[] => [
  // The successor a spent token was exchanged for, sealed, so a repeated refresh within the grace window gets it again.
  new TableColumn({ name: 'successor_sealed', type: 'text', isNullable: true }),
  new TableColumn({ name: 'successor_until', type: 'bigint', isNullable: true }),
];

/** Refresh tokens remember their sealed successor for the reuse grace window (refreshTokenReuseGrace). */
export class RefreshTokenSuccessor1796169600000 implements MigrationInterface {
  // Explicit, because TypeORM reads the timestamp from the name and bundlers may rename classes.
  readonly name = 'RefreshTokenSuccessor1796169600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns(TABLE, columns());
    await queryRunner.createIndex(TABLE, new TableIndex({ name: INDEX, columnNames: ['successor_until'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex(TABLE, INDEX);
    await queryRunner.dropColumns(TABLE, columns());
  }
}
