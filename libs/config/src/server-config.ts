import type { ConfigFile, McpServerEntry } from './config-file.schema.js';
import { childPath, type ConfigProblem } from './config-problem.js';
import type { EnvResolver, StrValue, TokValue } from './config-value.js';
import { checkInlineTool } from './inline-tool.check.js';
import type { UserAuthenticationConfig } from './user-authentication.js';
import { buildRemote, warnIgnoredRemoteKeys } from './remote-server-config.js';
import { buildUserToken, type UserTokenConfig } from './user-token-config.js';
import { UserTokenSlots } from './user-token-slots.js';

/**
 * How a service (not a person) authenticates to one server. `userToken`: what a caller
 * authenticated by it uses for the server's `$userToken` values (before tokenFormat).
 */
export type ServiceAuth =
  | { type: 'bearer'; name?: string; tokens: string[]; userToken?: string }
  | { type: 'basic'; name?: string; username: string; password: string; userToken?: string };

export interface ToolFilter {
  mode: 'allow' | 'block';
  list: string[];
}

/** `options.toolAccess`: the tools a rule's patterns match are only for callers in one of its groups. */
export interface ToolAccessRule {
  /** Tool names; `*` stands for any run of characters. */
  tools: string[];
  groups: string[];
}

/** What every kind of server has. */
interface ServerBase {
  name: string;
  /** Time allowed to start (or reach) the backend and answer initialize. */
  timeoutMs: number;
  toolFilter?: ToolFilter;
  /** Every rule that matches a tool must be satisfied; absent = no restriction beyond toolFilter. */
  toolAccess?: ToolAccessRule[];
  serviceAuths: ServiceAuth[];
  /** The runners that serve it (for an aggregate: the runners that hold its member connections). */
  runnerGroup: string;
  /** Present when the server needs each person's own credential (mcp-front's requiresUserToken). */
  userAuthentication?: UserAuthenticationConfig;
  /**
   * Present exactly when `userAuthentication` is: where the person's token goes. The values its
   * slots point at are '' placeholders; a backend is only ever built from `withUserToken(server, …)`.
   */
  userToken?: UserTokenConfig;
}

/** A stdio backend: one subprocess per MCP session. */
export interface StdioServerConfig extends ServerBase {
  transportType: 'stdio';
  command: string;
  args: string[];
  /** Only what the file sets; the runner adds `childProcessBaseEnvironment()`. */
  env: Record<string, string>;
}

/** A remote MCP server, reached from a runner: one upstream session per client session. */
export interface RemoteServerConfig extends ServerBase {
  transportType: 'streamable-http' | 'sse';
  url: string;
  /** Sent upstream with every request; the client's own credential never is. */
  headers: Record<string, string>;
}

export interface InlineToolConfig {
  name: string;
  description?: string;
  /** JSON Schema of the arguments; `{"type": "object"}` when the file gives none. */
  inputSchema: Record<string, unknown>;
  command: string;
  args: string[];
  env: Record<string, string>;
  timeoutMs: number;
  /** stdout beyond this is cut from the result (with a note). */
  maxOutputBytes: number;
  /** Values a person's token was filled into (by `withUserToken`): passed as they are, never templated with a call's arguments. */
  opaque?: { args: number[]; env: string[] };
}

/** Tools that run commands, served by a runner as an MCP server of its own. */
export interface InlineServerConfig extends ServerBase {
  transportType: 'inline';
  description?: string;
  tools: InlineToolConfig[];
}

/** One endpoint presenting the tools of other servers (its members), each reached under the caller's identity. */
export interface AggregateServerConfig extends ServerBase {
  /** Not a transport of mcp-front's: the runner serves an aggregate itself. */
  transportType: 'aggregate';
  members: string[];
  /** Between a member's name and its tool's in the names clients see. */
  delimiter: string;
  discovery: {
    /** A member that has not listed its tools by then is left out. */
    timeoutMs: number;
    /** How long a member's tool list is reused. */
    cacheTtlMs: number;
    /** Member sessions one identity may hold through aggregates; 0 = no limit beyond maxPerUser. */
    maxConnsPerUser: number;
  };
}

export type ServerConfig = StdioServerConfig | RemoteServerConfig | InlineServerConfig | AggregateServerConfig;

/** Where building records what it finds, in file order. */
export interface ServerFindings {
  readonly problems: ConfigProblem[];
  readonly warnings: string[];
  readonly resolver: EnvResolver;
}

export const DEFAULT_INLINE_TOOL_TIMEOUT_MS = 30_000;
export const DEFAULT_INLINE_MAX_OUTPUT_BYTES = 1024 * 1024;
export const DEFAULT_DELIMITER = '_';
export const DEFAULT_DISCOVERY = { timeoutMs: 10_000, cacheTtlMs: 60_000, maxConnsPerUser: 0 };
/** Tool names Claude's API and most clients accept. */
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Every server of the file, resolved; problems and warnings are recorded in `found`. */
export function buildServers(file: ConfigFile, found: ServerFindings): Record<string, ServerConfig> {
  const servers: Record<string, ServerConfig> = {};
  for (const [name, entry] of Object.entries(file.mcpServers)) {
    const server = buildServer(name, entry, file, found);
    if (!server) continue;
    servers[name] = server;
    if (entry.serviceAuths.length === 0 && !file.proxy.auth) {
      found.warnings.push(
        `${childPath('mcpServers', name)}: no serviceAuths and no proxy.auth, so anyone who can reach Gatehouse can use this server`,
      );
    }
  }
  if (Object.keys(file.mcpServers).length === 0) found.warnings.push('mcpServers: no servers are configured');
  return servers;
}

/** The kinds of server that run (the schema admits no other). */
const RUNNING_KINDS = new Set<ServerConfig['transportType']>(['stdio', 'streamable-http', 'sse', 'inline', 'aggregate']);

// Distributes over the union, so each kind keeps its own fields.
type Specific<T extends ServerConfig> = T extends ServerConfig ? Omit<T, keyof ServerBase> : never;

function buildServer(name: string, entry: McpServerEntry, file: ConfigFile, found: ServerFindings): ServerConfig | undefined {
  const path = childPath('mcpServers', name);
  const kind = entry.type === 'aggregate' ? 'aggregate' : entry.transportType;
  if (kind === undefined || !RUNNING_KINDS.has(kind)) return undefined;
  if (kind !== 'aggregate') {
    const stray = (['servers', 'delimiter', 'discovery'] as const).filter((key) => entry[key] !== undefined);
    for (const key of stray) found.warnings.push(`${path}.${key}: only aggregate servers use it; ignored`);
  }
  warnIgnoredRemoteKeys(entry, kind, path, found);
  const slots = new UserTokenSlots(found);
  // What only this kind has comes first, so problems are listed as the file reads.
  const specific = buildSpecific(kind, name, entry, file, path, found, slots);
  const base = buildBase(name, entry, path, found);
  return { ...base, ...buildUserToken(name, entry, kind, file, slots, found), ...specific };
}

function buildSpecific(
  kind: ServerConfig['transportType'],
  name: string,
  entry: McpServerEntry,
  file: ConfigFile,
  path: string,
  found: ServerFindings,
  slots: UserTokenSlots,
): Specific<ServerConfig> {
  switch (kind) {
    case 'aggregate':
      return buildAggregate(name, entry, file, path, found);
    case 'stdio':
      return buildStdio(entry, path, found, slots);
    case 'sse':
    case 'streamable-http':
      return buildRemote(kind, entry, path, found, slots);
    case 'inline':
      return buildInline(entry, path, found, slots);
  }
}

function buildBase(name: string, entry: McpServerEntry, path: string, found: ServerFindings): ServerBase {
  const toolFilter = entry.options?.toolFilter;
  const toolAccess = entry.options?.toolAccess;
  return {
    name,
    timeoutMs: entry.timeout,
    ...(toolFilter && { toolFilter: { mode: toolFilter.mode, list: toolFilter.list } }),
    ...(toolAccess && { toolAccess: toolAccess.map((rule) => ({ tools: rule.tools, groups: rule.groups })) }),
    serviceAuths: [
      ...entry.serviceAuths.map((auth, i) => buildServiceAuth(auth, `${path}.serviceAuths[${i}]`, found)),
      ...legacyAuthTokens(entry, path, found),
    ],
    runnerGroup: entry.runnerGroup,
  };
}

/** mcp-front's earliest per-server bearer tokens (`options.authTokens`, June 2025): a bearer serviceAuth today. */
function legacyAuthTokens(entry: McpServerEntry, path: string, found: ServerFindings): ServiceAuth[] {
  const tokens = entry.options?.authTokens;
  if (tokens === undefined) return [];
  const at = `${path}.options.authTokens`;
  found.warnings.push(
    `${at}: mcp-front's earlier form, read as serviceAuths [{"type": "bearer", "tokens": …}]; write serviceAuths instead`,
  );
  if (tokens.length === 0) return [];
  return [{ type: 'bearer', tokens: tokens.map((t, i) => credential(t, `${at}[${i}]`, found)) }];
}

function buildStdio(entry: McpServerEntry, path: string, { resolver }: ServerFindings, slots: UserTokenSlots): Specific<StdioServerConfig> {
  return {
    transportType: 'stdio',
    // The schema guarantees a command for stdio servers.
    command: entry.command === undefined ? '' : (resolver.str(entry.command, `${path}.command`) ?? ''),
    args: entry.args.map((arg, i) => slots.tok(arg, `${path}.args[${i}]`, ['args', i]) ?? ''),
    env: resolveRecord(entry.env, `${path}.env`, (value, at, key) => slots.tok(value, at, ['env', key])),
  };
}

function buildInline(entry: McpServerEntry, path: string, found: ServerFindings, slots: UserTokenSlots): Specific<InlineServerConfig> {
  const seen = new Set<string>();
  const tools = (entry.inline?.tools ?? []).map((tool, i): InlineToolConfig => {
    const at = `${path}.inline.tools[${i}]`;
    if (!TOOL_NAME.test(tool.name)) found.problems.push({ path: `${at}.name`, message: 'expected 1 to 64 letters, digits, "_" or "-"' });
    else if (seen.has(tool.name)) found.problems.push({ path: `${at}.name`, message: `duplicate tool name ${JSON.stringify(tool.name)}` });
    seen.add(tool.name);
    const resolved: InlineToolConfig = {
      name: tool.name,
      ...(tool.description !== undefined && { description: tool.description }),
      // MCP requires `"type": "object"`; a schema that leaves it out means the same.
      inputSchema: { type: 'object', ...tool.inputSchema },
      command: tool.command,
      args: (tool.args ?? []).map((arg, j) => slots.tok(arg, `${at}.args[${j}]`, ['tools', i, 'args', j]) ?? ''),
      env: resolveRecord(tool.env ?? {}, `${at}.env`, (value, where, key) => slots.tok(value, where, ['tools', i, 'env', key])),
      timeoutMs: tool.timeout ?? DEFAULT_INLINE_TOOL_TIMEOUT_MS,
      maxOutputBytes: tool.maxOutputBytes ?? DEFAULT_INLINE_MAX_OUTPUT_BYTES,
    };
    checkInlineTool(resolved, at, found);
    return resolved;
  });
  if (tools.length === 0) found.warnings.push(`${path}.inline.tools: no tools, so this server offers nothing`);
  const description = entry.inline?.description;
  return { transportType: 'inline', ...(description !== undefined && { description }), tools };
}

function buildAggregate(
  name: string,
  entry: McpServerEntry,
  file: ConfigFile,
  path: string,
  found: ServerFindings,
): Specific<AggregateServerConfig> {
  const kindOf = (other: string) => {
    const member = file.mcpServers[other];
    if (member === undefined) return 'unknown';
    return member.type === 'aggregate' ? 'aggregate' : member.transportType === 'inline' ? 'inline' : 'direct';
  };
  const named = entry.servers ?? Object.keys(file.mcpServers).filter((other) => other !== name && kindOf(other) === 'direct');
  named.forEach((member, i) => {
    const at = `${path}.servers[${i}]`;
    const kind = kindOf(member);
    if (member === name) found.problems.push({ path: at, message: 'an aggregate cannot contain itself' });
    else if (kind === 'unknown') found.problems.push({ path: at, message: `no server named ${JSON.stringify(member)}` });
    else if (kind !== 'direct') {
      found.problems.push({
        path: at,
        message: `an aggregate cannot contain ${kind === 'inline' ? 'an inline server' : 'another aggregate'}`,
      });
    }
  });
  const delimiter = entry.delimiter ?? DEFAULT_DELIMITER;
  if (!/^[A-Za-z0-9_-]*$/.test(delimiter)) {
    found.warnings.push(
      `${path}.delimiter: ${JSON.stringify(delimiter)} makes tool names some clients refuse (Claude's API takes ^[a-zA-Z0-9_-]{1,64}$); such names are shortened to fit`,
    );
  }
  const discovery = entry.discovery;
  return {
    transportType: 'aggregate',
    members: [...new Set(named)],
    delimiter,
    discovery: {
      timeoutMs: discovery?.timeout ?? DEFAULT_DISCOVERY.timeoutMs,
      cacheTtlMs: discovery?.cacheTtl ?? DEFAULT_DISCOVERY.cacheTtlMs,
      maxConnsPerUser: discovery?.maxConnsPerUser ?? DEFAULT_DISCOVERY.maxConnsPerUser,
    },
  };
}

function resolveRecord<V>(
  record: Record<string, V>,
  path: string,
  resolve: (value: V, at: string, key: string) => string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record)) out[key] = resolve(value, childPath(path, key), key) ?? '';
  return out;
}

function buildServiceAuth(auth: McpServerEntry['serviceAuths'][number], path: string, found: ServerFindings): ServiceAuth {
  const name = auth.name === undefined ? {} : { name: auth.name };
  const userToken = serviceUserToken(auth.userToken, `${path}.userToken`, found);
  const extra = { ...name, ...(userToken !== undefined && { userToken }) };
  if (auth.type === 'bearer') {
    return { type: 'bearer', ...extra, tokens: auth.tokens.map((t, i) => credential(t, `${path}.tokens[${i}]`, found)) };
  }
  return {
    type: 'basic',
    ...extra,
    username: credential(auth.username, `${path}.username`, found),
    password: credential(auth.password, `${path}.password`, found),
  };
}

/** A credential must not be empty (it would match an empty header); a literal one earns a warning. */
function credential(value: StrValue, path: string, found: ServerFindings): string {
  const resolved = found.resolver.str(value, path);
  if (resolved === '') found.problems.push({ path, message: 'expected a non-empty value' });
  if (typeof value === 'string' && resolved !== '' && !path.endsWith('.username')) {
    found.warnings.push(`${path}: a secret written in the config file; prefer {"$env": "VAR"}`);
  }
  return resolved ?? '';
}

/** The token a service caller uses for `$userToken`: its own, so never itself a `$userToken`. */
function serviceUserToken(value: TokValue | undefined, path: string, found: ServerFindings): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' && value.kind === 'userToken') {
    found.problems.push({
      path,
      message: 'a service caller is not a person and has no token of its own to fill in; give its token (a string or {"$env": "VAR"})',
    });
    return undefined;
  }
  return credential(value, path, found);
}
