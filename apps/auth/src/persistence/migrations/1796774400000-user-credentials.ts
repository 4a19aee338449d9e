import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { key, text, time, varchar } from './portable-columns.js';

/** Built afresh per run: TypeORM may annotate the Table objects it is given. */
const tables = (): Table[] => [
  new Table({
    name: 'user_credentials',
    columns: [
      key('sub'),
      key('server'),
      varchar('email', true),
      varchar('type'),
      // The token (oauth: access and refresh token, scope), sealed: never in clear.
      text('sealed_secret'),
      time('created_at'),
      time('updated_at'),
      time('expires_at', true),
      // One refresh at a time per (sub, server) across replicas; expires so a crashed replica does not hold it.
      time('refresh_locked_until', true),
    ],
    indices: [{ name: 'idx_user_credentials_email', columnNames: ['email'] }],
  }),
  new Table({
    name: 'upstream_authorizations',
    columns: [
      key('state_hash'),
      varchar('session_id'),
      varchar('sub'),
      varchar('email', true),
      varchar('server'),
      text('sealed_verifier'),
      time('created_at'),
      time('expires_at'),
    ],
    indices: [{ name: 'idx_upstream_authorizations_expires_at', columnNames: ['expires_at'] }],
  }),
  new Table({
    name: 'upstream_clients',
    columns: [
      key('server'),
      text('resource'),
      text('issuer'),
      text('client_id'),
      text('sealed_client_secret', true),
      text('metadata'),
      time('created_at'),
    ],
  }),
];

/** Per-user credentials: each person's own tokens for servers, their upstream OAuth flows, and the clients Gatehouse registered upstream. */
export class UserCredentials1796774400000 implements MigrationInterface {
  // Explicit, because TypeORM reads the timestamp from the name and bundlers may rename classes.
  readonly name = 'UserCredentials1796774400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of tables()) await queryRunner.createTable(table);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of tables().reverse()) await queryRunner.dropTable(table.name);
  }
}
