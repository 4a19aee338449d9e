import { obtainTokens, startOAuthTopology, type OAuthTopology, type TopologyKind } from '#testing';
import { EVERYTHING } from './gateway-config.js';
import type { Credential, FuzzServer } from './fuzz-http-requests.js';
import { REGISTERED_REDIRECT } from './fuzz-oauth-requests.js';

const BEARER_TOKEN = 'fuzz-bearer-token-0123456789abcdef';
const BASIC = { username: 'svc', password: 'fuzz-basic-password' };
const USERS = { alice: { sub: 'alice', email: 'alice@example.com', email_verified: true, hd: 'example.com' } };

const stdio = { transportType: 'stdio', command: process.execPath, args: [EVERYTHING, 'stdio'] };

export interface FuzzGateway {
  oauth: OAuthTopology;
  /** A public client registered before the fuzzing starts, for /authorize and /token to know. */
  clientId: string;
  /** The Authorization header a credential stands for, on a request to `target`. */
  authorization(credential: Credential, target: FuzzServer): string | undefined;
}

/**
 * Gatehouse with OAuth (the stand-in IdP) in front of server-everything three times: `bearer`
 * also takes a static token, `basic` basic credentials, `open` only OAuth access tokens.
 */
export async function startFuzzGateway(kind: TopologyKind, env: NodeJS.ProcessEnv = {}): Promise<FuzzGateway> {
  const oauth = await startOAuthTopology(kind, {
    users: USERS,
    // Warm pools the fuzzed 2026 requests open idle out soon, so the checks after the fuzz see none left.
    sessions: { timeout: '2m', maxPerUser: 20, pool: { idleTimeout: '2s', inputTimeout: '2s' } },
    mcpServers: {
      bearer: { ...stdio, serviceAuths: [{ type: 'bearer', tokens: [BEARER_TOKEN] }] },
      basic: { ...stdio, serviceAuths: [{ type: 'basic', ...BASIC }] },
      open: stdio,
    },
    env,
  });
  try {
    const { accessToken } = await obtainTokens(oauth.baseURL, `${oauth.baseURL}/open`);
    const clientId = await registerClient(oauth.baseURL);
    return { oauth, clientId, authorization: (credential, target) => authorizationOf(credential, target, accessToken) };
  } catch (err) {
    await oauth.stop();
    throw err;
  }
}

function authorizationOf(credential: Credential, target: FuzzServer, accessToken: string): string | undefined {
  switch (credential.kind) {
    case 'own':
      return validAuthorization(target, accessToken);
    case 'none':
      return undefined;
    case 'literal':
      return credential.value;
    case 'tampered-token':
      return `Bearer ${tampered(accessToken, credential.at)}`;
    case 'valid':
      return validAuthorization(credential.server, accessToken);
  }
}

export function validAuthorization(server: FuzzServer, accessToken: string): string {
  if (server === 'bearer') return `Bearer ${BEARER_TOKEN}`;
  if (server === 'basic') return `Basic ${Buffer.from(`${BASIC.username}:${BASIC.password}`).toString('base64')}`;
  return `Bearer ${accessToken}`;
}

/** The token with one character changed: a forged signature, header or claim. */
function tampered(token: string, at: number): string {
  const i = at % token.length;
  const replacement = token[i] === 'A' ? 'B' : 'A';
  return token.slice(0, i) + replacement + token.slice(i + 1);
}

async function registerClient(baseURL: string): Promise<string> {
  const res = await fetch(`${baseURL}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'fuzz', redirect_uris: [REGISTERED_REDIRECT], token_endpoint_auth_method: 'none' }),
  });
  const json: unknown = await res.json();
  if (res.status !== 201 || typeof json !== 'object' || json === null || !('client_id' in json) || typeof json.client_id !== 'string') {
    throw new Error(`registration failed: ${res.status} ${JSON.stringify(json)}`);
  }
  return json.client_id;
}
