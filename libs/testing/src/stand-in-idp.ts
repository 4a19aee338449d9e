import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { standInConfiguration, type StandInIdpOptions, type StandInUser } from './stand-in-idp.config.js';

export type { StandInClient, StandInIdpOptions, StandInUpstreamOptions, StandInUser } from './stand-in-idp.config.js';

/** A real OpenID Provider (oidc-provider) on a loopback port, standing in for Google or any OIDC IdP in tests. */
export interface StandInIdp {
  /** http://127.0.0.1:<port> */
  issuer: string;
  /** issuer + /.well-known/openid-configuration */
  discoveryUrl: string;
  authorizationUrl: string;
  tokenUrl: string;
  userInfoUrl: string;
  /** The next interactive login completes as this user (consent granted); 'deny' makes it end with access_denied. Later logins go back to the first user. */
  loginAs(userId: string): void;
  /** How many token requests of this grant type (authorization_code, refresh_token, …) succeeded. */
  grantCount(grantType: string): number;
  close(): Promise<void>;
}

/** Starts the stand-in IdP. Interactions need no form: they finish at once as the user chosen by `loginAs`. */
export async function startStandInIdp(options: StandInIdpOptions): Promise<StandInIdp> {
  const [defaultUser] = Object.keys(options.users);
  if (defaultUser === undefined) throw new Error('the stand-in IdP needs at least one user');
  const { Provider, parts } = await loadOidcProvider();
  const server = createServer();
  const issuer = await listenOnLoopback(server);
  const provider = new Provider(issuer, await standInConfiguration(options, parts));
  const chooser = new LoginChooser(options.users, defaultUser);
  const grants = new Map<string, number>();
  provider.on('grant.success', (ctx) => {
    const type = String(ctx.oidc.params?.grant_type);
    grants.set(type, (grants.get(type) ?? 0) + 1);
  });
  const handle = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const answered = req.url?.startsWith('/interaction/') ? finishInteraction(provider, chooser, req, res) : handle(req, res);
    void answered.catch((err: unknown) => failed(res, err));
  });
  return {
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    authorizationUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    userInfoUrl: `${issuer}/me`,
    loginAs: (userId) => chooser.choose(userId),
    grantCount: (grantType) => grants.get(grantType) ?? 0,
    close: () => closeServer(server),
  };
}

/** Who the next interaction logs in as. */
class LoginChooser {
  private next: string | undefined;

  constructor(
    private readonly users: Record<string, StandInUser>,
    private readonly defaultUser: string,
  ) {}

  choose(userId: string): void {
    if (userId !== 'deny' && this.users[userId] === undefined) throw new Error(`the stand-in IdP has no user ${userId}`);
    this.next = userId;
  }

  take(): StandInUser | 'deny' {
    const chosen = this.next ?? this.defaultUser;
    this.next = undefined;
    if (chosen === 'deny') return 'deny';
    const user = this.users[chosen];
    if (user === undefined) throw new Error(`the stand-in IdP has no user ${chosen}`);
    return user;
  }
}

/** The interaction a login page would run: log the chosen user in and grant what the client asked for, or refuse. */
async function finishInteraction(provider: Provider, chooser: LoginChooser, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const interaction = await provider.interactionDetails(req, res);
  const user = chooser.take();
  if (user === 'deny') {
    const refusal = { error: 'access_denied', error_description: 'The user refused the login.' };
    return provider.interactionFinished(req, res, refusal, { mergeWithLastSubmission: false });
  }
  const { client_id: clientId, scope } = interaction.params;
  if (typeof clientId !== 'string' || typeof scope !== 'string') throw new Error('interaction without client_id or scope');
  const grant = new provider.Grant({ accountId: user.sub, clientId });
  grant.addOIDCScope(scope);
  // A resource server's scopes are granted per resource (RFC 8707), when the client named one.
  const { resource } = interaction.params;
  if (typeof resource === 'string') grant.addResourceScope(resource, scope);
  const grantId = await grant.save();
  const result = { login: { accountId: user.sub }, consent: { grantId } };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

function failed(res: ServerResponse, err: unknown): void {
  if (res.headersSent) return void res.destroy();
  res.statusCode = 500;
  res.end(`stand-in IdP: ${err instanceof Error ? err.message : String(err)}`);
}

/** Imports oidc-provider on first use, so production code that loads #testing never needs this dev dependency. */
async function loadOidcProvider() {
  const restore = dropUnsupportedRuntimeWarning();
  try {
    const { default: Provider, interactionPolicy } = await import('oidc-provider');
    const { createMemoryAdapter } = await import('oidc-provider/lib/adapters/memory_adapter.js');
    return {
      Provider,
      parts: { Check: interactionPolicy.Check, basePolicy: () => interactionPolicy.base(), adapter: createMemoryAdapter() },
    };
  } finally {
    restore();
  }
}

/** oidc-provider 9 prints one warning on import when it runs on Node 20 (this project's engine) rather than 22; only that line is dropped. */
function dropUnsupportedRuntimeWarning(): () => void {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return;
    warn(...args);
  };
  return () => {
    console.warn = warn;
  };
}

async function listenOnLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the stand-in IdP is not listening on a TCP port');
  return `http://127.0.0.1:${address.port}`;
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  // Keep-alive connections from fetch would otherwise hold close() open.
  server.closeAllConnections();
  await closed;
}
