import type { ConfigFile, McpServerEntry } from './config-file.schema.js';
import { childPath } from './config-problem.js';
import type { ServerConfig, ServerFindings } from './server-config.js';
import { DEFAULT_TOKEN_FORMAT, type UserAuthenticationConfig } from './user-authentication.js';
import type { UserTokenSlot, UserTokenSlots } from './user-token-slots.js';

/** What a server that needs each person's credential carries besides its backend's config. */
export interface UserTokenConfig {
  /** Every value a `$userToken` stands for; `withUserToken` fills them. */
  slots: UserTokenSlot[];
}

type RawUserAuthentication = NonNullable<McpServerEntry['userAuthentication']>;

const OAUTH_ONLY = ['clientId', 'clientSecret', 'authorizationUrl', 'tokenUrl', 'scopes'] as const;
const MANUAL_ONLY = ['instructions', 'helpUrl', 'validation'] as const;

/**
 * `requiresUserToken`, `userAuthentication` (or mcp-front's earlier `tokenSetup`) and the
 * `$userToken` slots of one server, checked together.
 */
export function buildUserToken(
  name: string,
  entry: McpServerEntry,
  kind: ServerConfig['transportType'],
  file: ConfigFile,
  slots: UserTokenSlots,
  found: ServerFindings,
): { userAuthentication?: UserAuthenticationConfig; userToken?: UserTokenConfig } {
  const path = childPath('mcpServers', name);
  const requires = entry.requiresUserToken === true;
  if (!requires) {
    for (const slot of slots.found) {
      found.problems.push({ path: slot.source, message: 'a {"$userToken": …} value needs "requiresUserToken": true on this server' });
    }
    for (const key of ['userAuthentication', 'tokenSetup'] as const) {
      if (entry[key] !== undefined) found.warnings.push(`${path}.${key}: used only when requiresUserToken is true; ignored`);
    }
    return {};
  }
  if (kind === 'aggregate') {
    found.problems.push({
      path: `${path}.requiresUserToken`,
      message: 'an aggregate cannot require a user token; set it on the member servers, each of which asks for its own',
    });
    return {};
  }
  if (!file.proxy.auth) {
    found.problems.push({
      path: `${path}.requiresUserToken`,
      message: 'needs proxy.auth: a user token belongs to a person, and only an OAuth login says who the person is',
    });
  }
  const raw = userAuthenticationOf(entry, path, found);
  if (!raw) {
    found.problems.push({ path: `${path}.userAuthentication`, message: 'required when requiresUserToken is true' });
    return {};
  }
  const remote = kind === 'streamable-http' || kind === 'sse';
  const userAuthentication = buildUserAuthentication(name, raw, `${path}.userAuthentication`, remote, found);
  for (const slot of slots.found) {
    if (!slot.template.includes('{{token}}')) {
      found.warnings.push(`${slot.source}: the template has no {{token}}, so the person's token is not used here`);
    }
  }
  if (slots.found.length === 0) {
    found.warnings.push(`${path}: requiresUserToken is true but no value is {"$userToken": …}, so the person's token reaches no backend`);
  }
  entry.serviceAuths.forEach((auth, i) => {
    if (auth.userToken === undefined) {
      found.warnings.push(
        `${path}.serviceAuths[${i}]: no userToken, so callers authenticated by it are told to connect a credential they cannot connect`,
      );
    }
  });
  return { userAuthentication, userToken: { slots: slots.found.map(({ path: at, template }) => ({ path: at, template })) } };
}

/** `userAuthentication`, or mcp-front's first form `tokenSetup` read as a manual one (its tokenFormat was the validation regex). */
function userAuthenticationOf(entry: McpServerEntry, path: string, found: ServerFindings): RawUserAuthentication | undefined {
  const setup = entry.tokenSetup;
  if (setup === undefined) return entry.userAuthentication;
  if (entry.userAuthentication !== undefined) {
    found.warnings.push(
      `${path}.tokenSetup: mcp-front's earlier form of userAuthentication; userAuthentication is set too, so it is ignored`,
    );
    return entry.userAuthentication;
  }
  found.warnings.push(
    `${path}.tokenSetup: mcp-front's earlier form, read as userAuthentication {"type": "manual"} with its tokenFormat as validation; write userAuthentication instead`,
  );
  return {
    type: 'manual',
    ...(setup.displayName !== undefined && { displayName: setup.displayName }),
    ...(setup.instructions !== undefined && { instructions: setup.instructions }),
    ...(setup.helpUrl !== undefined && { helpUrl: setup.helpUrl }),
    ...(setup.tokenFormat !== undefined && { validation: setup.tokenFormat }),
  };
}

function buildUserAuthentication(
  name: string,
  raw: RawUserAuthentication,
  path: string,
  remote: boolean,
  found: ServerFindings,
): UserAuthenticationConfig {
  const base = { displayName: raw.displayName ?? name, tokenFormat: raw.tokenFormat ?? DEFAULT_TOKEN_FORMAT };
  if (!base.tokenFormat.includes('{{token}}')) {
    found.warnings.push(`${path}.tokenFormat: has no {{token}}, so every person's token becomes the same text`);
  }
  const stray = (raw.type === 'manual' ? OAUTH_ONLY : MANUAL_ONLY).filter((key) => raw[key] !== undefined);
  for (const key of stray)
    found.warnings.push(`${path}.${key}: used only by type "${raw.type === 'manual' ? 'oauth' : 'manual'}"; ignored`);
  if (raw.type === 'manual') {
    return {
      type: 'manual',
      ...base,
      ...(raw.instructions !== undefined && { instructions: raw.instructions }),
      ...(raw.helpUrl !== undefined && { helpUrl: webUrl(raw.helpUrl, `${path}.helpUrl`, found) }),
      ...(raw.validation !== undefined && { validation: compileValidation(raw.validation, `${path}.validation`, found) }),
    };
  }
  const { resolver } = found;
  const clientId = raw.clientId && resolver.str(raw.clientId, `${path}.clientId`);
  const clientSecret = raw.clientSecret && resolver.str(raw.clientSecret, `${path}.clientSecret`);
  const authorizationUrl = raw.authorizationUrl && webUrl(raw.authorizationUrl, `${path}.authorizationUrl`, found);
  const tokenUrl = raw.tokenUrl && webUrl(raw.tokenUrl, `${path}.tokenUrl`, found);
  checkOAuthEndpoints(raw, path, remote, found);
  return {
    type: 'oauth',
    ...base,
    ...(clientId !== undefined && { clientId }),
    ...(clientSecret !== undefined && { clientSecret }),
    ...(authorizationUrl !== undefined && { authorizationUrl }),
    ...(tokenUrl !== undefined && { tokenUrl }),
    scopes: raw.scopes ?? [],
  };
}

/** Endpoints and a client come together; only a remote MCP server lets auth discover them (RFC 9728) and register. */
function checkOAuthEndpoints(raw: RawUserAuthentication, path: string, remote: boolean, found: ServerFindings): void {
  const missing = (['authorizationUrl', 'tokenUrl'] as const).filter((key) => raw[key] === undefined);
  if (missing.length === 1) {
    found.problems.push({
      path: `${path}.${missing[0] ?? ''}`,
      message: 'required with the other endpoint (give both, or neither on a remote server)',
    });
    return;
  }
  if (missing.length === 2 && !remote) {
    for (const key of missing) {
      found.problems.push({
        path: `${path}.${key}`,
        message: "required: only a remote (sse or streamable-http) server lets Gatehouse discover the service's endpoints",
      });
    }
    return;
  }
  if (missing.length === 0 && raw.clientId === undefined) {
    found.problems.push({ path: `${path}.clientId`, message: 'required when authorizationUrl and tokenUrl are given' });
  }
  if (raw.clientSecret !== undefined && raw.clientId === undefined && missing.length === 2) {
    found.warnings.push(`${path}.clientSecret: without clientId Gatehouse registers its own client, so this secret is not used`);
  }
}

/** A link shown to people or followed by the gateway: http(s) only (never `javascript:`). */
function webUrl(text: string, path: string, found: ServerFindings): string {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    found.problems.push({ path, message: 'expected an absolute http(s) URL' });
  }
  return text;
}

function compileValidation(pattern: string, path: string, found: ServerFindings): RegExp | undefined {
  try {
    return new RegExp(pattern);
  } catch (error) {
    const why = error instanceof SyntaxError ? error.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') : 'invalid';
    found.problems.push({ path, message: `expected a regular expression: ${why}` });
    return undefined;
  }
}
