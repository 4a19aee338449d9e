import { z } from 'zod';
import { Str, Tok } from './config-value.js';
import { Duration } from './duration.js';

/** Served at `/<name>/mcp`, so a name is one URL-safe path segment. */
export const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export const ServerName = z.string().regex(SERVER_NAME, { error: 'expected letters, digits, "_" or "-", starting with a letter or digit' });

export const TRANSPORT_TYPES = ['stdio', 'sse', 'streamable-http', 'inline'] as const;

const ToolFilterSchema = z.strictObject({
  mode: z.enum(['allow', 'block']),
  list: z.array(z.string()).default([]),
});

/** Gatehouse addition: tools matched by `tools` (`*` = any characters) are only for callers in one of `groups`. */
const ToolAccessRuleSchema = z.strictObject({
  tools: z.array(z.string().min(1)).min(1, { error: 'expected at least one tool name or pattern' }),
  groups: z.array(z.string().min(1)).min(1, { error: 'expected at least one group (a tool no group may use belongs in toolFilter)' }),
});

/** `options`: mcp-front's keys (panicIfInvalid and logEnabled are accepted and ignored) and Gatehouse's toolAccess. */
const OptionsSchema = z.strictObject({
  toolFilter: ToolFilterSchema.optional(),
  toolAccess: z.array(ToolAccessRuleSchema).optional(),
  authTokens: z.array(Str).optional(),
  panicIfInvalid: z.boolean().optional(),
  logEnabled: z.boolean().optional(),
});

/** mcp-front's first form of per-user tokens (before userAuthentication). */
const TokenSetupSchema = z.strictObject({
  displayName: z.string().optional(),
  instructions: z.string().optional(),
  helpUrl: z.string().optional(),
  tokenFormat: z.string().optional(),
});

const ServiceAuthSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('bearer'),
    name: z.string().optional(),
    tokens: z.array(Str).min(1, { error: 'expected at least one token' }),
    userToken: Tok.optional(),
  }),
  z.strictObject({
    type: z.literal('basic'),
    name: z.string().optional(),
    username: Str,
    password: Str,
    userToken: Tok.optional(),
  }),
]);

const UserAuthenticationSchema = z.strictObject({
  type: z.enum(['manual', 'oauth']),
  displayName: z.string().optional(),
  instructions: z.string().optional(),
  helpUrl: z.string().optional(),
  validation: z.string().optional(),
  tokenFormat: z.string().optional(),
  clientId: Str.optional(),
  clientSecret: Str.optional(),
  authorizationUrl: z.string().optional(),
  tokenUrl: z.string().optional(),
  scopes: z.array(z.string()).optional(),
});

const InlineToolSchema = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  inputSchema: z.record(z.string(), z.unknown()).optional(),
  command: z.string(),
  args: z.array(Tok).optional(),
  env: z.record(z.string(), Tok).optional(),
  timeout: Duration.optional(),
  /** Gatehouse addition: the most stdout a call's result carries. */
  maxOutputBytes: z.int().positive().optional(),
});

const InlineSchema = z.strictObject({
  description: z.string().optional(),
  tools: z.array(InlineToolSchema),
});

const DiscoverySchema = z.strictObject({
  timeout: Duration.optional(),
  cacheTtl: Duration.optional(),
  maxConnsPerUser: z.int().nonnegative().optional(),
});

/** The keys each transport cannot do without, as mcp-front requires them. */
const REQUIRED_BY_TRANSPORT = new Map<string, 'command' | 'url' | 'inline'>([
  ['stdio', 'command'],
  ['sse', 'url'],
  ['streamable-http', 'url'],
  ['inline', 'inline'],
]);

/** One entry of `mcpServers`. */
export const McpServerSchema = z
  .strictObject({
    type: z.enum(['direct', 'aggregate']).default('direct'),
    transportType: z.enum(TRANSPORT_TYPES).optional(),
    command: Str.optional(),
    args: z.array(Tok).default([]),
    env: z.record(z.string(), Tok).default({}),
    url: Tok.optional(),
    headers: z.record(z.string(), Tok).optional(),
    timeout: Duration.prefault('30s'),
    options: OptionsSchema.optional(),
    serviceAuths: z.array(ServiceAuthSchema).default([]),
    requiresUserToken: z.boolean().optional(),
    userAuthentication: UserAuthenticationSchema.optional(),
    tokenSetup: TokenSetupSchema.optional(),
    /** mcp-front: a Google ID token for this audience upstream; accepted and ignored here. */
    googleIDTokenAudience: z.string().optional(),
    inline: InlineSchema.optional(),
    servers: z.array(ServerName).optional(),
    delimiter: z.string().optional(),
    discovery: DiscoverySchema.optional(),
    runnerGroup: ServerName.default('default'),
  })
  .superRefine(
    (server, ctx) => {
      // An aggregate without `servers` presents every direct server but inline ones.
      if (server.type === 'aggregate') return;
      if (server.transportType === undefined) {
        const expected = TRANSPORT_TYPES.map((t) => JSON.stringify(t)).join(' | ');
        ctx.addIssue({ code: 'custom', path: ['transportType'], message: `required: expected ${expected}` });
        return;
      }
      // Values may be partly invalid here (see `when`), so look the key up rather than trust the type.
      const key = REQUIRED_BY_TRANSPORT.get(server.transportType);
      if (key !== undefined && (server[key] === undefined || server[key] === '')) {
        const message = `required when transportType is ${JSON.stringify(server.transportType)}`;
        ctx.addIssue({ code: 'custom', path: [key], message });
      }
    },
    // Run even when other keys failed, so a missing command is reported with them.
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );
