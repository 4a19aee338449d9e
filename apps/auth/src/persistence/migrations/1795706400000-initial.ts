import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { key, text, time, varchar } from './portable-columns.js';

/** Built afresh per run: TypeORM may annotate the Table objects it is given. */
const tables = (): Table[] => [
  new Table({
    name: 'clients',
    columns: [
      key('client_id'),
      varchar('secret_hash', true),
      text('client_name', true),
      text('redirect_uris'),
      text('grant_types'),
      varchar('token_endpoint_auth_method'),
      text('scope', true),
      time('created_at'),
    ],
  }),
  new Table({
    name: 'pending_authorizations',
    columns: [
      key('id'),
      text('client_id'),
      text('redirect_uri'),
      text('state'),
      varchar('code_challenge'),
      text('resources'),
      text('scope'),
      varchar('csrf_hash'),
      varchar('idp_nonce', true),
      varchar('idp_code_verifier', true),
      text('approved_resources', true),
      time('created_at'),
      time('expires_at'),
    ],
    indices: [{ name: 'idx_pending_authorizations_expires_at', columnNames: ['expires_at'] }],
  }),
  new Table({
    name: 'authorization_codes',
    columns: [
      key('code_hash'),
      text('client_id'),
      text('redirect_uri'),
      varchar('code_challenge'),
      text('resources'),
      text('scope'),
      text('subject'),
      varchar('grant_id'),
      time('expires_at'),
      time('consumed_at', true),
    ],
    indices: [{ name: 'idx_authorization_codes_expires_at', columnNames: ['expires_at'] }],
  }),
  new Table({
    name: 'grants',
    columns: [
      key('id'),
      text('client_id'),
      text('subject'),
      text('resources'),
      text('scope'),
      time('created_at'),
      time('expires_at'),
      time('revoked_at', true),
    ],
    indices: [{ name: 'idx_grants_expires_at', columnNames: ['expires_at'] }],
  }),
  new Table({
    name: 'refresh_tokens',
    columns: [key('token_hash'), varchar('grant_id'), time('expires_at'), time('used_at', true)],
    indices: [
      { name: 'idx_refresh_tokens_grant_id', columnNames: ['grant_id'] },
      { name: 'idx_refresh_tokens_expires_at', columnNames: ['expires_at'] },
    ],
  }),
  new Table({
    name: 'signing_keys',
    columns: [key('kid'), varchar('alg'), text('public_jwk'), text('sealed_private_jwk'), time('created_at'), time('retired_at', true)],
  }),
  new Table({
    name: 'revocations',
    columns: [key('kind'), key('value'), time('until')],
    indices: [{ name: 'idx_revocations_until', columnNames: ['until'] }],
  }),
];

/** Auth's first schema: one table per record of the AuthStore port. */
export class Initial1795706400000 implements MigrationInterface {
  // Explicit, because TypeORM reads the timestamp from the name and bundlers may rename classes.
  readonly name = 'Initial1795706400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of tables()) await queryRunner.createTable(table);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of tables().reverse()) await queryRunner.dropTable(table.name);
  }
}
