import type { AuditRecord } from '#contracts';

/**
 * What auth keeps: every record that must survive a restart. Times are epoch milliseconds.
 * Secrets are never stored as given: codes and refresh tokens by their SHA-256 (base64url),
 * client secrets likewise, signing keys sealed with the configured encryption key.
 */

/** The person an authorization belongs to, as the identity provider vouched for them. */
export interface Subject {
  sub: string;
  email: string;
  groups: string[];
}

/** A client registered with RFC 7591 dynamic registration. */
export interface ClientRecord {
  clientId: string;
  /** SHA-256 of the client secret; absent for public clients. */
  secretHash?: string;
  clientName?: string;
  redirectUris: string[];
  grantTypes: string[];
  tokenEndpointAuthMethod: 'none' | 'client_secret_basic' | 'client_secret_post';
  scope?: string;
  createdAt: number;
}

/** An /authorize request between the consent page and the identity provider's callback. */
export interface PendingAuthorizationRecord {
  /** Random; also the `state` sent to the identity provider. */
  id: string;
  clientId: string;
  redirectUri: string;
  /** The client's own `state`, returned with the code. */
  state: string;
  codeChallenge: string;
  /** Canonical resource URIs asked for; empty when the client named none. */
  resources: string[];
  scope: string;
  /** SHA-256 of the consent form's CSRF token. */
  csrfHash: string;
  /** The login at the identity provider this authorization would use (set with the consent page). */
  idpNonce?: string;
  idpCodeVerifier?: string;
  /** The servers' resource URIs the user approved. */
  approvedResources?: string[];
  createdAt: number;
  expiresAt: number;
}

export interface AuthorizationCodeRecord {
  codeHash: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  resources: string[];
  scope: string;
  subject: Subject;
  /** The grant (refresh-token family) this code starts; a replayed code revokes it. */
  grantId: string;
  expiresAt: number;
  consumedAt?: number;
}

/** One authorization of one client by one person: the family of its refresh tokens. */
export interface GrantRecord {
  id: string;
  clientId: string;
  subject: Subject;
  resources: string[];
  scope: string;
  createdAt: number;
  expiresAt: number;
  revokedAt?: number;
  /** The identity provider's refresh token from the login that made the grant, sealed: each refresh asks the IdP again. */
  idpRefreshSealed?: string;
}

export interface RefreshTokenRecord {
  tokenHash: string;
  grantId: string;
  expiresAt: number;
  /** Set when the token was exchanged (rotated); presenting it again revokes the grant, unless within the reuse grace window. */
  usedAt?: number;
  /** What a spent token was exchanged for, kept only for the reuse grace window. */
  successor?: SealedSuccessor;
}

/** A successor refresh token, sealed with the encryption key (bound to the spent token's hash). */
export interface SealedSuccessor {
  sealed: string;
  /** Until when a repeated refresh may be given it again; purged afterwards. */
  until: number;
}

export interface SigningKeyRecord {
  kid: string;
  alg: 'ES256';
  /** Public JWK as JSON (with kid, alg, use). */
  publicJwk: string;
  /** Private JWK sealed with the encryption key (libs/crypto Envelope). */
  sealedPrivateJwk: string;
  createdAt: number;
  /** When it stopped signing; it still verifies until tokens it signed have expired. */
  retiredAt?: number;
}

/** The servers a person let one client use: asked again only when the client asks for more. */
export interface ConsentRecord {
  sub: string;
  clientId: string;
  /** Canonical resource URIs approved so far (the union of every approval). */
  resources: string[];
  createdAt: number;
  updatedAt: number;
}

/** A revoked access token (`jti`) or grant, kept until the last token it covers expires. */
export interface RevocationRecord {
  kind: 'jti' | 'grant';
  value: string;
  until: number;
}

/** A person's own credential for one server that needs one (per-user credentials). */
export interface UserCredentialRecord {
  sub: string;
  /** As the identity provider gave it when the credential was stored: how an administrator finds it. */
  email?: string;
  server: string;
  type: 'manual' | 'oauth';
  /** The secret part (the token; oauth: access token, refresh token, scope) sealed with the Envelope, AAD bound to (sub, server). */
  sealedSecret: string;
  createdAt: number;
  updatedAt: number;
  /** oauth: when the access token expires, if the service said. */
  expiresAt?: number;
}

/** An upstream authorization a person started from /oauth/connect, until the service sends them back (one use). */
export interface UpstreamAuthorizationRecord {
  /** SHA-256 of the `state` sent to the service. */
  stateHash: string;
  /** The browser session that started it; only that session may complete it. */
  sessionId: string;
  sub: string;
  email?: string;
  server: string;
  /** The PKCE code verifier, sealed (AAD bound to the state hash). */
  sealedVerifier: string;
  createdAt: number;
  expiresAt: number;
}

/** The client Gatehouse registered for one server at the authorization server it discovered. */
export interface UpstreamClientRecord {
  server: string;
  /** The protected resource (the server's URL) the registration was made for; a changed URL means a new registration. */
  resource: string;
  issuer: string;
  clientId: string;
  /** Sealed (AAD bound to the server); absent for a public client. */
  sealedClientSecret?: string;
  /** The authorization server's RFC 8414 metadata as discovered (endpoints, supported methods). */
  metadata: Record<string, unknown>;
  createdAt: number;
}

/** Outcome of consuming a single-use record: the record, and whether it had been used before. */
export interface Consumed<T> {
  record: T;
  /** True when an earlier call had already consumed it (a replay). */
  replayed: boolean;
}

export interface ClientRepository {
  insert(client: ClientRecord): Promise<void>;
  find(clientId: string): Promise<ClientRecord | undefined>;
}

export interface PendingAuthorizationRepository {
  insert(pending: PendingAuthorizationRecord): Promise<void>;
  /** Undefined when unknown or expired at `now`. */
  find(id: string, now: number): Promise<PendingAuthorizationRecord | undefined>;
  update(id: string, patch: Partial<Pick<PendingAuthorizationRecord, 'idpNonce' | 'idpCodeVerifier' | 'approvedResources'>>): Promise<void>;
  /** Deletes and returns it, atomically: a second call gets undefined. Undefined when expired. */
  take(id: string, now: number): Promise<PendingAuthorizationRecord | undefined>;
}

export interface AuthorizationCodeRepository {
  insert(code: AuthorizationCodeRecord): Promise<void>;
  /** Marks it consumed atomically; undefined when unknown. Expiry is the caller's check. */
  consume(codeHash: string, now: number): Promise<Consumed<AuthorizationCodeRecord> | undefined>;
}

export interface GrantRepository {
  insert(grant: GrantRecord): Promise<void>;
  find(id: string): Promise<GrantRecord | undefined>;
  /** True when this call revoked it, false when it was already revoked or unknown. */
  revoke(id: string, now: number): Promise<boolean>;
  /** The person's grants neither revoked nor expired at `now`, oldest first. */
  listActive(sub: string, now: number): Promise<GrantRecord[]>;
  /** Replaces the sealed IdP refresh token (the IdP rotated it). */
  keepIdpRefresh(id: string, sealed: string): Promise<void>;
}

export interface ConsentRepository {
  find(sub: string, clientId: string): Promise<ConsentRecord | undefined>;
  /** Adds `resources` to what the person approved for the client (creating the record). */
  remember(sub: string, clientId: string, resources: string[], now: number): Promise<void>;
  forget(sub: string, clientId: string): Promise<void>;
}

export interface RefreshTokenRepository {
  insert(token: RefreshTokenRecord): Promise<void>;
  find(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  /**
   * Exchanges an unused token for `successor` (inserted first), marking it used and keeping
   * `sealed` in one conditional UPDATE. Of concurrent calls exactly one rotates; the others get
   * the record as it left it (`replayed`) and their successor is deleted. Undefined when unknown.
   */
  rotate(
    tokenHash: string,
    successor: RefreshTokenRecord,
    sealed: SealedSuccessor | undefined,
    now: number,
  ): Promise<Consumed<RefreshTokenRecord> | undefined>;
}

export interface SigningKeyRepository {
  /** Every key, newest first. */
  list(): Promise<SigningKeyRecord[]>;
  insert(key: SigningKeyRecord): Promise<void>;
  retire(kid: string, now: number): Promise<void>;
  /** Replaces the sealed private half only while it is still `from` (re-sealing under a rotated encryption key). */
  reseal(kid: string, from: string, to: string): Promise<void>;
}

export interface RevocationRepository {
  /** Inserting the same kind and value again keeps the later `until`. */
  insert(revocation: RevocationRecord): Promise<void>;
  listActive(now: number): Promise<RevocationRecord[]>;
}

export interface UserCredentialRepository {
  find(sub: string, server: string): Promise<UserCredentialRecord | undefined>;
  listBySub(sub: string): Promise<UserCredentialRecord[]>;
  listByEmail(email: string): Promise<UserCredentialRecord[]>;
  /** Inserts it, or replaces type, email, secret, expiry and updatedAt of the stored one (its createdAt is kept). */
  save(credential: UserCredentialRecord): Promise<void>;
  /** Replaces the sealed secret only while it is still `from` (re-sealing under a newer key must not undo a refresh); true when it did. */
  reseal(sub: string, server: string, from: string, to: string): Promise<boolean>;
  /**
   * Replaces the secret, expiry and updatedAt only while the stored secret is still `from`; never inserts (a refresh must not
   * bring back a credential deleted meanwhile). True when it changed the row.
   */
  replaceSecret(
    sub: string,
    server: string,
    from: string,
    to: Pick<UserCredentialRecord, 'sealedSecret' | 'updatedAt' | 'expiresAt'>,
  ): Promise<boolean>;
  /** True when this call deleted it. */
  delete(sub: string, server: string): Promise<boolean>;
  /** Takes the refresh lock until `until` when no one holds it at `now`; true for the one caller that got it. Across replicas: one conditional UPDATE. */
  lock(sub: string, server: string, now: number, until: number): Promise<boolean>;
  /** Releases the lock only while it is still the one this holder took (`until` as given to lock): never another holder's. */
  unlock(sub: string, server: string, until: number): Promise<void>;
}

export interface UpstreamAuthorizationRepository {
  insert(pending: UpstreamAuthorizationRecord): Promise<void>;
  /** Reads it without using it up (to check what it is bound to before taking it); undefined when expired at `now`. */
  find(stateHash: string, now: number): Promise<UpstreamAuthorizationRecord | undefined>;
  /** Deletes and returns it, atomically: a second call gets undefined. Undefined when expired at `now`. */
  take(stateHash: string, now: number): Promise<UpstreamAuthorizationRecord | undefined>;
}

export interface UpstreamClientRepository {
  find(server: string): Promise<UpstreamClientRecord | undefined>;
  /** Inserts it or replaces the server's registration. */
  save(client: UpstreamClientRecord): Promise<void>;
  /** Replaces the sealed client secret only while it is still `from` (a re-seal must not undo a newer registration). */
  reseal(server: string, from: string, to: string): Promise<void>;
  delete(server: string): Promise<void>;
}

/** All of auth's repositories over one database connection. */
/** Which audit records to read: from `since` (epoch ms), oldest first, at most `limit`. */
export interface AuditQuery {
  since: number;
  /** An email or a sub. */
  user?: string;
  server?: string;
  limit: number;
}

export interface AuditEventRepository {
  append(records: readonly AuditRecord[]): Promise<void>;
  list(query: AuditQuery): Promise<AuditRecord[]>;
  /** Deletes records older than `at`; returns how many. */
  deleteBefore(at: number): Promise<number>;
}

export interface AuthStore {
  clients: ClientRepository;
  pendingAuthorizations: PendingAuthorizationRepository;
  codes: AuthorizationCodeRepository;
  grants: GrantRepository;
  refreshTokens: RefreshTokenRepository;
  signingKeys: SigningKeyRepository;
  revocations: RevocationRepository;
  consents: ConsentRepository;
  userCredentials: UserCredentialRepository;
  upstreamAuthorizations: UpstreamAuthorizationRepository;
  upstreamClients: UpstreamClientRepository;
  auditEvents: AuditEventRepository;
  /** Deletes records whose time has passed (codes, pending and upstream authorizations, tokens, sealed successors, revocations). */
  purgeExpired(now: number): Promise<void>;
  close(): Promise<void>;
}
