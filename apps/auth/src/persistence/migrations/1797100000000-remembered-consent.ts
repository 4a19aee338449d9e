import { z } from 'zod';
import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const GRANTS = 'grants';
const GRANTS_BY_SUB = 'idx_grants_subject_sub';

/** Built afresh per run: TypeORM may annotate the objects it is given. */
const consents = (): Table =>
  new Table({
    name: 'consents',
    columns: [
      { name: 'id', type: 'varchar', length: '255', isPrimary: true },
      { name: 'sub', type: 'varchar', length: '255' },
      { name: 'client_id', type: 'text' },
      { name: 'resources', type: 'text' },
      { name: 'created_at', type: 'bigint' },
      { name: 'updated_at', type: 'bigint' },
    ],
    indices: [{ name: 'idx_consents_sub', columnNames: ['sub'] }],
  });

const OldGrants = z.array(z.object({ id: z.string(), subject: z.string() }));
const Subject = z.object({ sub: z.string() });

const grantColumns = (): TableColumn[] => [
  new TableColumn({ name: 'subject_sub', type: 'varchar', length: '255', isNullable: true }),
  // The identity provider's refresh token from the login, sealed: each refresh of the grant asks the IdP again.
  new TableColumn({ name: 'idp_refresh_sealed', type: 'text', isNullable: true }),
];

/**
 * Consent remembered per (person, client), so a second /authorize asks only for servers beyond
 * those; grants findable by person (their pages list and revoke them), and holding the identity
 * provider's sealed refresh token (the policy is decided again at each refresh).
 */
export class RememberedConsent1797100000000 implements MigrationInterface {
  readonly name = 'RememberedConsent1797100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(consents());
    await queryRunner.addColumns(GRANTS, grantColumns());
    await queryRunner.createIndex(GRANTS, new TableIndex({ name: GRANTS_BY_SUB, columnNames: ['subject_sub'] }));
    await backfillSubjectSub(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex(GRANTS, GRANTS_BY_SUB);
    await queryRunner.dropColumns(GRANTS, grantColumns());
    await queryRunner.dropTable('consents');
  }
}

/** Grants made before this release: their sub is in the subject JSON, read here rather than by SQL JSON functions that differ per database. */
async function backfillSubjectSub(queryRunner: QueryRunner): Promise<void> {
  const { options, driver } = queryRunner.connection;
  const postgres = options.type === 'postgres';
  // Raw SQL is not qualified by the DataSource's schema: name it.
  const schema = postgres ? options.schema : undefined;
  const table = schema === undefined ? driver.escape(GRANTS) : `${driver.escape(schema)}.${driver.escape(GRANTS)}`;
  const rows = OldGrants.parse(await queryRunner.query(`SELECT id, subject FROM ${table} WHERE subject_sub IS NULL`));
  for (const row of rows) {
    const subject = Subject.safeParse(JSON.parse(row.subject));
    if (!subject.success) continue;
    const [first, second] = postgres ? ['$1', '$2'] : ['?', '?'];
    await queryRunner.query(`UPDATE ${table} SET subject_sub = ${first} WHERE id = ${second}`, [subject.data.sub, row.id]);
  }
}
