import type { ServerConfig, UserAuthenticationConfig } from '#config';
import { formatUserToken } from '#config';
import { userCredentialAad, type UserCredentialReply } from '#contracts';
import { EnvelopeError, sha256Base64Url, type Envelope } from '#crypto';
import type { Logger } from '#observability';
import type { AuditRecorder } from '../audit/audit-log.js';
import type { BrowserSession } from '../browser/browser-session.port.js';
import type { AuthStore, UserCredentialRecord } from '../persistence/auth-store.port.js';
import { LockedRefresh, type OpenedCredential } from './locked-refresh.js';
import { checkManualToken } from './manual-token.js';
import { RefreshFailed, type OAuthConnections } from './oauth-connection.js';
import type { SealedSecrets, StoredSecret } from './sealed-secret.js';
import type { OAuthServer } from './upstream-servers.js';
import { CredentialRefused, type CredentialStatus, type UserCredentials } from './user-credentials.port.js';

/** An oauth token this close to its expiry is refreshed before it is handed out. */
export const REFRESH_AHEAD_MS = 60_000;

export interface UserCredentialServiceOptions {
  /** The gateway's issuer: the person's pages are under it. */
  issuer: string;
  servers: Record<string, ServerConfig>;
  now: () => number;
  log: Logger;
  /** Where setting, connecting and removing a credential is recorded. */
  audit?: AuditRecorder;
}

type NeedsCredential = ServerConfig & { userAuthentication: UserAuthenticationConfig };

/** The person's credentials (their pages) and the runner's request for one (`credentialFor`). */
export class UserCredentialService implements UserCredentials {
  constructor(
    private readonly store: AuthStore,
    private readonly envelope: Envelope,
    private readonly secrets: SealedSecrets,
    private readonly connections: OAuthConnections,
    private readonly refresher: LockedRefresh,
    private readonly options: UserCredentialServiceOptions,
  ) {}

  async list(session: BrowserSession): Promise<CredentialStatus[]> {
    const stored = new Map((await this.store.userCredentials.listBySub(session.sub)).map((c) => [c.server, c]));
    return this.serversNeedingCredentials().map(({ name, userAuthentication: auth }) => {
      const record = stored.get(name);
      return {
        server: name,
        displayName: auth.displayName || name,
        type: auth.type,
        connected: record !== undefined,
        ...(record !== undefined && { updatedAt: record.updatedAt }),
        ...(record?.expiresAt !== undefined && { expiresAt: record.expiresAt }),
        ...(auth.type === 'manual' && auth.instructions !== undefined && { instructions: auth.instructions }),
        ...(auth.type === 'manual' && auth.helpUrl !== undefined && { helpUrl: auth.helpUrl }),
      };
    });
  }

  async setManual(session: BrowserSession, server: string, token: string): Promise<void> {
    const config = this.server(server);
    const auth = config.userAuthentication;
    if (auth.type !== 'manual') throw new CredentialRefused(`${auth.displayName} is connected with its own sign-in, not a pasted token.`);
    const checked = checkManualToken(auth, token);
    const now = this.options.now();
    await this.save(session, server, 'manual', this.secrets.seal(session.sub, server, { token: checked }), now);
    this.options.log.info({ sub: session.sub, server }, 'user credential set (manual)');
    this.audited(session, server, 'manual token set');
  }

  async remove(session: BrowserSession, server: string): Promise<void> {
    const record = await this.store.userCredentials.find(session.sub, server);
    if (record === undefined) return;
    // Deleted first: a refresh in flight then finds no row to update and revokes what it was issued.
    await this.store.userCredentials.delete(session.sub, server);
    await this.revokeAtService(record);
    this.options.log.info({ sub: session.sub, server }, 'user credential removed');
    this.audited(session, server, `${record.type === 'oauth' ? 'connection' : 'manual token'} removed`);
  }

  async beginConnect(session: BrowserSession, server: string): Promise<URL> {
    return this.connections.begin(session, this.oauthServer(server));
  }

  async completeConnect(session: BrowserSession, server: string, callbackUrl: URL): Promise<string> {
    const config = this.oauthServer(server);
    const tokens = await this.connections.complete(session, config, callbackUrl);
    const sealed = this.secrets.seal(session.sub, server, tokens.secret);
    await this.save(session, server, 'oauth', sealed, this.options.now(), tokens.expiresAt);
    this.options.log.info({ sub: session.sub, server }, 'user credential connected (oauth)');
    this.audited(session, server, 'connected');
    return server;
  }

  /** A credential change, in the audit trail: never the credential itself. */
  private audited(who: { sub: string; email?: string | undefined }, server: string, detail: string): void {
    const email = who.email === undefined ? {} : { email: who.email };
    this.options.audit?.record({ at: this.options.now(), kind: 'credential', outcome: 'ok', sub: who.sub, ...email, server, detail });
  }

  /** Revokes an oauth credential at the service (RFC 7009) where it can; a failure there is logged, never fatal. */
  async revokeAtService(record: UserCredentialRecord): Promise<void> {
    const config = this.options.servers[record.server];
    if (record.type !== 'oauth' || config?.userAuthentication?.type !== 'oauth') return;
    try {
      const secret = await this.secrets.open(record);
      await this.connections.revoke({ ...config, userAuthentication: config.userAuthentication }, secret);
    } catch (err) {
      const reason = err instanceof Error ? err.name : 'error';
      this.options.log.warn(
        { sub: record.sub, server: record.server, reason },
        'revoking the credential at the service failed; deleted locally',
      );
    }
  }

  /** Tokens a refresh was issued but could not store (the credential was removed meanwhile): revoked at the service, best effort. */
  private async revokeIssued(server: OAuthServer, secret: StoredSecret): Promise<void> {
    try {
      await this.connections.revoke(server, secret);
    } catch (err) {
      const reason = err instanceof Error ? err.name : 'error';
      this.options.log.warn({ server: server.name, reason }, 'revoking tokens of a refresh that could not be stored failed');
    }
  }

  /** The runner's request (gh.auth.credentials.get): the formatted token sealed for this person and server, or where to get one. */
  async credentialFor(sub: string, server: string, rejected?: string): Promise<UserCredentialReply> {
    const config = needingCredential(this.options.servers[server]);
    if (config === undefined) return { status: 'unavailable', message: `Server ${server} takes no per-user credential.` };
    const auth = config.userAuthentication;
    try {
      const record = await this.store.userCredentials.find(sub, server);
      // The record as stored after opening it: a re-seal under the current key is not another replica's refresh.
      const current = record && (await this.secrets.openRecord(record));
      if (current !== undefined && auth.type === 'manual' && rejected === sha256Base64Url(formatUserToken(auth, current.secret.token))) {
        // Nothing to refresh: the person must replace it (it is kept until they do).
        return this.missing(config, `${auth.displayName} refused your token`);
      }
      const opened = current && (await this.usable(current, config, rejected));
      if (opened === undefined) return this.missing(config);
      const formatted = formatUserToken(auth, opened.secret.token);
      return {
        status: 'ok',
        sealed: this.envelope.seal(formatted, userCredentialAad(sub, server)),
        ...(opened.record.expiresAt !== undefined && { expiresAt: opened.record.expiresAt }),
      };
    } catch (err) {
      const reason =
        err instanceof RefreshFailed ? err.message : err instanceof EnvelopeError ? `stored credential: ${err.code}` : 'storage error';
      this.options.log.warn({ sub, server, reason }, 'user credential unavailable');
      return { status: 'unavailable', message: `Your ${auth.displayName} credential cannot be used right now; try again shortly.` };
    }
  }

  /** An oauth token about to expire, or the one the upstream just refused, is refreshed first (once, under the lock). */
  private async usable(
    opened: OpenedCredential,
    config: NeedsCredential,
    rejected: string | undefined,
  ): Promise<OpenedCredential | undefined> {
    const auth = config.userAuthentication;
    if (auth.type !== 'oauth') return opened;
    const expiring = opened.record.expiresAt !== undefined && opened.record.expiresAt - REFRESH_AHEAD_MS <= this.options.now();
    const refused = rejected !== undefined && sha256Base64Url(formatUserToken(auth, opened.secret.token)) === rejected;
    if (!expiring && !refused) return opened;
    const server: OAuthServer = { ...config, userAuthentication: auth };
    // The service's endpoints are resolved before the lock is taken: only the token request runs under it.
    const refresh = await this.connections.refresher(server);
    const fresh = await this.refresher.refresh(opened, refresh, (secret) => this.revokeIssued(server, secret));
    if (fresh === undefined) this.options.log.info({ sub: opened.record.sub, server: config.name }, 'user credential ended at the service');
    return fresh;
  }

  private missing(config: NeedsCredential, refused?: string): UserCredentialReply {
    const auth = config.userAuthentication;
    const connectUrl =
      auth.type === 'manual'
        ? `${this.options.issuer}/my/tokens`
        : `${this.options.issuer}/oauth/connect?service=${encodeURIComponent(config.name)}`;
    if (refused !== undefined) return { status: 'missing', connectUrl, message: `${refused}: replace it at ${connectUrl}` };
    const action = auth.type === 'manual' ? `add your ${auth.displayName} token` : `connect your ${auth.displayName} account`;
    return {
      status: 'missing',
      connectUrl,
      message: `${config.name} needs your own ${auth.displayName} credential: ${action} at ${connectUrl}`,
    };
  }

  private async save(
    session: BrowserSession,
    server: string,
    type: 'manual' | 'oauth',
    sealedSecret: string,
    now: number,
    expiresAt?: number,
  ) {
    const existing = await this.store.userCredentials.find(session.sub, server);
    await this.store.userCredentials.save({
      sub: session.sub,
      ...(session.email !== undefined && { email: session.email }),
      server,
      type,
      sealedSecret,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      ...(expiresAt !== undefined && { expiresAt }),
    });
  }

  private serversNeedingCredentials(): NeedsCredential[] {
    return Object.values(this.options.servers).flatMap((s) => needingCredential(s) ?? []);
  }

  private server(name: string): NeedsCredential {
    const config = needingCredential(this.options.servers[name]);
    if (config === undefined) throw new CredentialRefused(`There is no server ${name} that takes your own credential.`);
    return config;
  }

  private oauthServer(name: string): OAuthServer {
    const config = this.server(name);
    const auth = config.userAuthentication;
    if (auth.type !== 'oauth') throw new CredentialRefused(`${auth.displayName} takes a pasted token, not a connection.`);
    return { ...config, userAuthentication: auth };
  }
}

function needingCredential(config: ServerConfig | undefined): NeedsCredential | undefined {
  const auth = config?.userAuthentication;
  return config === undefined || auth === undefined ? undefined : { ...config, userAuthentication: auth };
}
