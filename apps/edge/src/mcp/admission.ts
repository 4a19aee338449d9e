import type { Principal } from '#contracts';
import type { Logger } from '#observability';
import type { TokenVerification } from '../credentials/access-token.verifier.js';
import { authenticate, type ServiceAuth } from '../credentials/service-auth.js';
import { header, type McpHttpRequest } from './http-io.js';
import { McpErrors } from './mcp-errors.js';

/** What the edge needs to know of a configured server. */
export interface EdgeServer {
  name: string;
  serviceAuths: readonly ServiceAuth[];
  runnerGroup: string;
  /** Time allowed to start the backend and answer initialize. */
  timeoutMs: number;
}

export interface Admitted {
  server: EdgeServer;
  principal: Principal;
}

/** Checks Gatehouse's OAuth access tokens; the reason is for logs. */
export interface AccessTokens {
  verify(token: string, serverName: string): Promise<TokenVerification>;
  /** Whether `token` was verified before (a signature of auth's, still remembered). */
  knows(token: string): boolean;
}

/** Present when OAuth is configured: every server then takes access tokens. */
export interface OAuthAdmission {
  tokens: AccessTokens;
  /** Where a refused client finds each server's protected-resource metadata. */
  baseURL: string;
  log: Logger;
}

/** Server exists, Origin allowed, caller authenticated — or the request is refused. */
export class Admission {
  constructor(
    private readonly servers: ReadonlyMap<string, EdgeServer>,
    private readonly origins: { allowed: readonly string[]; own: string },
    private readonly oauth?: OAuthAdmission,
  ) {}

  async admit(req: McpHttpRequest, serverName: string): Promise<Admitted> {
    const server = this.servers.get(serverName);
    if (!server) throw McpErrors.unknownServer(serverName);
    const origin = header(req.headers, 'origin');
    if (origin !== undefined && !this.originAllowed(origin, server)) throw McpErrors.originNotAllowed(origin);
    const authorization = header(req.headers, 'authorization');
    if (!this.oauth) {
      const auth = authenticate(authorization, server.serviceAuths, server.name);
      if (!auth.ok) throw McpErrors.unauthorized({ 'www-authenticate': auth.challenges });
      // Callers of an open server are told apart by address, so one of them cannot use up everyone's sessions.
      const principal =
        auth.principal.method === 'anonymous' ? { ...auth.principal, sub: `anonymous:${req.clientAddress}` } : auth.principal;
      return { server, principal };
    }
    return { server, principal: await this.authenticateWithOAuth(authorization, server, this.oauth) };
  }

  /**
   * A server's static credentials first (constant time), then an access token: both work on the
   * same server. An access token already verified skips the static ones: it is auth's, so it is
   * none of them, and looking it up among them cost a hash of it on every call.
   */
  private async authenticateWithOAuth(authorization: string | undefined, server: EdgeServer, oauth: OAuthAdmission): Promise<Principal> {
    const remembered = rememberedToken(authorization, oauth.tokens);
    const token = remembered ?? bearerToken(authorization);
    const verifiedBefore = remembered !== undefined || (token !== undefined && oauth.tokens.knows(token));
    if (server.serviceAuths.length > 0 && !verifiedBefore) {
      const auth = authenticate(authorization, server.serviceAuths, server.name);
      if (auth.ok) return auth.principal;
    }
    if (token !== undefined) {
      const verified = await oauth.tokens.verify(token, server.name);
      if (verified.ok) return verified.principal;
      // A 401 would make the client drop a token that may be good and start an interactive login.
      if (verified.unavailable) throw McpErrors.authUnavailable();
      oauth.log.debug({ server: server.name, reason: verified.reason }, 'access token refused');
    }
    throw McpErrors.unauthorized({ 'www-authenticate': oauthChallenges(server, oauth.baseURL, token !== undefined) });
  }

  /**
   * The configured allow-list when there is one. Without it, a server that takes no credentials
   * answers only pages of the gateway's own origin: a web page elsewhere must not reach it by DNS
   * rebinding. A server with credentials (every server, when OAuth is on) is safe from such pages,
   * which cannot know them.
   */
  private originAllowed(origin: string, server: EdgeServer): boolean {
    if (this.origins.allowed.length > 0) return this.origins.allowed.includes(origin);
    return this.oauth !== undefined || server.serviceAuths.length > 0 || origin === this.origins.own;
  }
}

const BEARER_AND_SPACE = /^bearer /i;

/**
 * The token of `Bearer <token>` written plainly, when it is one verified before: what nearly every
 * call presents, found without splitting the header (a scan of the whole token). A remembered token
 * is a compact JWS, which holds no whitespace, so `bearerToken` would give the same.
 */
export function rememberedToken(authorization: string | undefined, tokens: AccessTokens): string | undefined {
  if (authorization === undefined || !BEARER_AND_SPACE.test(authorization)) return undefined;
  const token = authorization.slice(7);
  return tokens.knows(token) ? token : undefined;
}

/** The credential of a `Bearer` Authorization header; undefined for any other scheme or none. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const [scheme = '', token = '', ...rest] = (authorization ?? '').trim().split(/\s+/);
  return scheme.toLowerCase() === 'bearer' && token !== '' && rest.length === 0 ? token : undefined;
}

/**
 * RFC 9728 §5.1: the challenge names the server's protected-resource metadata, which leads the
 * client to the authorization server; `invalid_token` (RFC 6750) when a token was presented.
 * Bearer comes first: MCP clients read the first challenge.
 */
function oauthChallenges(server: EdgeServer, baseURL: string, tokenPresented: boolean): string[] {
  const metadata = `${baseURL}/.well-known/oauth-protected-resource/${server.name}`;
  const error = tokenPresented ? ', error="invalid_token"' : '';
  const challenges = [`Bearer resource_metadata="${metadata}", scope="mcp"${error}`];
  if (server.serviceAuths.some((a) => a.type === 'basic')) challenges.push('Basic realm="gatehouse", charset="UTF-8"');
  return challenges;
}
