import { createHash, randomBytes } from 'node:crypto';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { ScriptedBrowser, type BrowserStop } from './scripted-browser.js';

/** An MCP SDK OAuth client provider that keeps everything in memory and records where it was sent. */
export class TestOAuthProvider implements OAuthClientProvider {
  /** The last authorization URL the SDK asked to open in a browser. */
  authorizationUrl: URL | undefined;
  readonly clientMetadataUrl: string | undefined;
  private client: OAuthClientInformationMixed | undefined;
  private saved: OAuthTokens | undefined;
  private verifier = '';

  constructor(private readonly options: { redirectUrl: string; clientName?: string; clientMetadataUrl?: string }) {
    this.clientMetadataUrl = options.clientMetadataUrl;
  }

  get redirectUrl(): string {
    return this.options.redirectUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.options.clientName ?? 'Gatehouse e2e client',
      redirect_uris: [this.options.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  /** Gatehouse requires `state`, which the SDK sends only when the provider makes one. */
  state(): string {
    return randomBytes(16).toString('base64url');
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.client;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.client = info;
  }

  tokens(): OAuthTokens | undefined {
    return this.saved;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    return this.verifier;
  }
}

/** The hidden fields and action of Gatehouse's consent form, read from its page. */
function consentForm(html: string, pageUrl: URL): { action: URL; pending: string; csrf: string } {
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const pending = field('pending');
  const csrf = field('csrf');
  if (!action || !pending || !csrf) throw new Error(`not a consent page: ${html.slice(0, 300)}`);
  return { action: new URL(action, pageUrl), pending, csrf };
}

/**
 * Drives Gatehouse's consent page and the identity provider's login from an authorization URL
 * to the client's redirect URI. `servers` picks servers when the page asks the user to choose.
 */
export async function authorizeInBrowser(
  browser: ScriptedBrowser,
  authorizationUrl: URL,
  redirectUrl: string,
  choice: { approve?: boolean; servers?: string[] } = {},
): Promise<BrowserStop> {
  const consent = await browser.open(authorizationUrl, redirectUrl);
  if (consent.kind === 'redirect' || consent.status !== 200) return consent;
  const form = consentForm(consent.html, consent.url);
  const fields: [string, string][] = [
    ['pending', form.pending],
    ['csrf', form.csrf],
    ['decision', choice.approve === false ? 'deny' : 'approve'],
    ...(choice.servers ?? []).map((s): [string, string] => ['server', s]),
  ];
  return browser.submit(form.action, fields, redirectUrl);
}

/** A PKCE S256 pair (RFC 7636): a random verifier and its challenge. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * A whole OAuth login without the SDK: registers a public client, walks the consent page and the
 * identity provider's login in a scripted browser, and exchanges the code. For benchmarks and
 * tests that need a real access token for `resource`.
 */
export async function obtainTokens(
  baseURL: string,
  resource: string | string[],
  browser: ScriptedBrowser = new ScriptedBrowser(),
): Promise<{ accessToken: string; refreshToken: string; clientId: string }> {
  const redirectUri = 'http://127.0.0.1:9/callback';
  const registered = await fetch(`${baseURL}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Gatehouse test client', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' }),
  });
  const { client_id: clientId } = (await registered.json()) as { client_id: string };
  const { verifier, challenge } = pkce();
  const url = new URL(`${baseURL}/authorize`);
  const params = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    state: randomBytes(8).toString('hex'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  for (const uri of typeof resource === 'string' ? [resource] : resource) url.searchParams.append('resource', uri);
  const stop = await authorizeInBrowser(browser, url, redirectUri);
  const code = stop.kind === 'redirect' ? stop.url.searchParams.get('code') : null;
  if (!code) throw new Error(`the login ended without a code: ${stop.kind === 'page' ? stop.html.slice(0, 300) : stop.url.href}`);
  const form = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: clientId };
  const res = await fetch(`${baseURL}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const tokens = (await res.json()) as { access_token?: string; refresh_token?: string; error?: string; error_description?: string };
  if (!tokens.access_token || !tokens.refresh_token)
    // Only the error members: a body that lacks one token may still hold the other.
    throw new Error(`the token endpoint answered ${res.status}: ${tokens.error ?? 'no tokens'} ${tokens.error_description ?? ''}`.trim());
  return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, clientId };
}
