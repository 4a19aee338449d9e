import { EntitySchema, type EntitySchemaColumnOptions, type ValueTransformer } from 'typeorm';
import type { ClientRecord, RevocationRecord, SigningKeyRecord, Subject } from './auth-store.port.js';

/**
 * Rows as TypeORM reads and writes them: the port's records with NULL for absent values.
 * Column names are snake_case and match migrations/ (1795706400000-initial.ts and later). Client ids outside
 * the clients table are text: a metadata document's URL may be 2048 characters long.
 */

export interface ClientRow {
  clientId: string;
  secretHash: string | null;
  clientName: string | null;
  redirectUris: string[];
  grantTypes: string[];
  tokenEndpointAuthMethod: ClientRecord['tokenEndpointAuthMethod'];
  scope: string | null;
  createdAt: number;
}

export interface PendingAuthorizationRow {
  id: string;
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  resources: string[];
  scope: string;
  csrfHash: string;
  idpNonce: string | null;
  idpCodeVerifier: string | null;
  approvedResources: string[] | null;
  createdAt: number;
  expiresAt: number;
}

export interface AuthorizationCodeRow {
  codeHash: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  resources: string[];
  scope: string;
  subject: Subject;
  grantId: string;
  expiresAt: number;
  consumedAt: number | null;
}

export interface GrantRow {
  id: string;
  clientId: string;
  subject: Subject;
  /** subject.sub, as a column: the person's pages list their grants by it. */
  subjectSub: string | null;
  resources: string[];
  scope: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  idpRefreshSealed: string | null;
}

export interface RefreshTokenRow {
  tokenHash: string;
  grantId: string;
  expiresAt: number;
  usedAt: number | null;
  successorSealed: string | null;
  successorUntil: number | null;
}

export interface SigningKeyRow {
  kid: string;
  alg: SigningKeyRecord['alg'];
  publicJwk: string;
  sealedPrivateJwk: string;
  createdAt: number;
  retiredAt: number | null;
}

export interface RevocationRow {
  kind: RevocationRecord['kind'];
  value: string;
  until: number;
}

export interface ConsentRow {
  /** SHA-256 of [sub, clientId]: a client id may be a 2048-character URL. */
  id: string;
  sub: string;
  clientId: string;
  resources: string[];
  createdAt: number;
  updatedAt: number;
}

export interface UserCredentialRow {
  sub: string;
  server: string;
  email: string | null;
  type: 'manual' | 'oauth';
  sealedSecret: string;
  createdAt: number;
  updatedAt: number;
  expiresAt: number | null;
  refreshLockedUntil: number | null;
}

export interface UpstreamAuthorizationRow {
  stateHash: string;
  sessionId: string;
  sub: string;
  email: string | null;
  server: string;
  sealedVerifier: string;
  createdAt: number;
  expiresAt: number;
}

export interface UpstreamClientRow {
  server: string;
  resource: string;
  issuer: string;
  clientId: string;
  sealedClientSecret: string | null;
  /** JSON text, parsed by the repository. */
  metadata: string;
  createdAt: number;
}

export type Columns<Row> = { [P in keyof Row]-?: EntitySchemaColumnOptions };

/** node-postgres returns BIGINT as a string (it may exceed 2^53); epoch milliseconds never do. */
const epochMillis: ValueTransformer = {
  to: (value: unknown) => value,
  from: (value: unknown) => (value === null || value === undefined ? null : Number(value)),
};

export const key = (name: string): EntitySchemaColumnOptions => ({ name, type: 'varchar', length: 255, primary: true });
export const varchar = (name: string, nullable = false): EntitySchemaColumnOptions => ({ name, type: 'varchar', length: 255, nullable });
export const text = (name: string, nullable = false): EntitySchemaColumnOptions => ({ name, type: 'text', nullable });
const json = (name: string, nullable = false): EntitySchemaColumnOptions => ({ name, type: 'simple-json', nullable });
export const time = (name: string, nullable = false): EntitySchemaColumnOptions => ({
  name,
  type: 'bigint',
  nullable,
  transformer: epochMillis,
});

export const clientSchema = new EntitySchema<ClientRow>({
  name: 'Client',
  tableName: 'clients',
  columns: {
    clientId: key('client_id'),
    secretHash: varchar('secret_hash', true),
    clientName: text('client_name', true),
    redirectUris: json('redirect_uris'),
    grantTypes: json('grant_types'),
    tokenEndpointAuthMethod: varchar('token_endpoint_auth_method'),
    scope: text('scope', true),
    createdAt: time('created_at'),
  } satisfies Columns<ClientRow>,
});

export const pendingAuthorizationSchema = new EntitySchema<PendingAuthorizationRow>({
  name: 'PendingAuthorization',
  tableName: 'pending_authorizations',
  columns: {
    id: key('id'),
    clientId: text('client_id'),
    redirectUri: text('redirect_uri'),
    state: text('state'),
    codeChallenge: varchar('code_challenge'),
    resources: json('resources'),
    scope: text('scope'),
    csrfHash: varchar('csrf_hash'),
    idpNonce: varchar('idp_nonce', true),
    idpCodeVerifier: varchar('idp_code_verifier', true),
    approvedResources: json('approved_resources', true),
    createdAt: time('created_at'),
    expiresAt: time('expires_at'),
  } satisfies Columns<PendingAuthorizationRow>,
});

export const authorizationCodeSchema = new EntitySchema<AuthorizationCodeRow>({
  name: 'AuthorizationCode',
  tableName: 'authorization_codes',
  columns: {
    codeHash: key('code_hash'),
    clientId: text('client_id'),
    redirectUri: text('redirect_uri'),
    codeChallenge: varchar('code_challenge'),
    resources: json('resources'),
    scope: text('scope'),
    subject: json('subject'),
    grantId: varchar('grant_id'),
    expiresAt: time('expires_at'),
    consumedAt: time('consumed_at', true),
  } satisfies Columns<AuthorizationCodeRow>,
});

export const grantSchema = new EntitySchema<GrantRow>({
  name: 'Grant',
  tableName: 'grants',
  columns: {
    id: key('id'),
    clientId: text('client_id'),
    subject: json('subject'),
    subjectSub: varchar('subject_sub', true),
    resources: json('resources'),
    scope: text('scope'),
    createdAt: time('created_at'),
    expiresAt: time('expires_at'),
    revokedAt: time('revoked_at', true),
    idpRefreshSealed: text('idp_refresh_sealed', true),
  } satisfies Columns<GrantRow>,
});

export const refreshTokenSchema = new EntitySchema<RefreshTokenRow>({
  name: 'RefreshToken',
  tableName: 'refresh_tokens',
  columns: {
    tokenHash: key('token_hash'),
    grantId: varchar('grant_id'),
    expiresAt: time('expires_at'),
    usedAt: time('used_at', true),
    successorSealed: text('successor_sealed', true),
    successorUntil: time('successor_until', true),
  } satisfies Columns<RefreshTokenRow>,
});

export const signingKeySchema = new EntitySchema<SigningKeyRow>({
  name: 'SigningKey',
  tableName: 'signing_keys',
  columns: {
    kid: key('kid'),
    alg: varchar('alg'),
    publicJwk: text('public_jwk'),
    sealedPrivateJwk: text('sealed_private_jwk'),
    createdAt: time('created_at'),
    retiredAt: time('retired_at', true),
  } satisfies Columns<SigningKeyRow>,
});

export const revocationSchema = new EntitySchema<RevocationRow>({
  name: 'Revocation',
  tableName: 'revocations',
  columns: {
    kind: key('kind'),
    value: key('value'),
    until: time('until'),
  } satisfies Columns<RevocationRow>,
});

export const consentSchema = new EntitySchema<ConsentRow>({
  name: 'Consent',
  tableName: 'consents',
  columns: {
    id: key('id'),
    sub: varchar('sub'),
    clientId: text('client_id'),
    resources: json('resources'),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  } satisfies Columns<ConsentRow>,
});

export const userCredentialSchema = new EntitySchema<UserCredentialRow>({
  name: 'UserCredential',
  tableName: 'user_credentials',
  columns: {
    sub: key('sub'),
    server: key('server'),
    email: varchar('email', true),
    type: varchar('type'),
    sealedSecret: text('sealed_secret'),
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
    expiresAt: time('expires_at', true),
    refreshLockedUntil: time('refresh_locked_until', true),
  } satisfies Columns<UserCredentialRow>,
});

export const upstreamAuthorizationSchema = new EntitySchema<UpstreamAuthorizationRow>({
  name: 'UpstreamAuthorization',
  tableName: 'upstream_authorizations',
  columns: {
    stateHash: key('state_hash'),
    sessionId: varchar('session_id'),
    sub: varchar('sub'),
    email: varchar('email', true),
    server: varchar('server'),
    sealedVerifier: text('sealed_verifier'),
    createdAt: time('created_at'),
    expiresAt: time('expires_at'),
  } satisfies Columns<UpstreamAuthorizationRow>,
});

export const upstreamClientSchema = new EntitySchema<UpstreamClientRow>({
  name: 'UpstreamClient',
  tableName: 'upstream_clients',
  columns: {
    server: key('server'),
    resource: text('resource'),
    issuer: text('issuer'),
    clientId: text('client_id'),
    sealedClientSecret: text('sealed_client_secret', true),
    metadata: text('metadata'),
    createdAt: time('created_at'),
  } satisfies Columns<UpstreamClientRow>,
});

export const authEntities = [
  consentSchema,
  clientSchema,
  pendingAuthorizationSchema,
  authorizationCodeSchema,
  grantSchema,
  refreshTokenSchema,
  signingKeySchema,
  revocationSchema,
  userCredentialSchema,
  upstreamAuthorizationSchema,
  upstreamClientSchema,
];
