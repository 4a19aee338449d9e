import { childPath, messageOf, type ConfigProblem } from './config-problem.js';
import type { ConfigFile, McpServerEntry } from './config-file.schema.js';
import { EnvResolver, type StrValue } from './config-value.js';
import { parseAddr, type ListenAddress } from './listen-address.js';
import { buildAuthConfig, type AuthConfig } from './auth-config.js';
import { readRuntimeEnvironment } from './runtime-environment.js';

/** How a service (not a person) authenticates to one server. */
export type ServiceAuth =
  { type: 'bearer'; name?: string; tokens: string[] } | { type: 'basic'; name?: string; username: string; password: string };

export interface ToolFilter {
  mode: 'allow' | 'block';
  list: string[];
}

/** A stdio backend: one subprocess per MCP session. */
export interface StdioServerConfig {
  name: string;
  transportType: 'stdio';
  command: string;
  args: string[];
  /** Only what the file sets; the runner adds `childProcessBaseEnvironment()`. */
  env: Record<string, string>;
  timeoutMs: number;
  toolFilter?: ToolFilter;
  serviceAuths: ServiceAuth[];
  runnerGroup: string;
}

/** The resolved configuration the apps use: defaults applied, `$env` resolved, durations in ms. */
export interface GatehouseConfig {
  version: string;
  proxy: {
    /** Origin plus base path, no trailing slash: resource URIs are `${baseURL}/${server}`. */
    baseURL: string;
    /** Path of baseURL without trailing slash; "" at the root. Prefixes every route. */
    basePath: string;
    addr: ListenAddress;
    name: string;
    sessions: { timeoutMs: number; cleanupIntervalMs: number; maxPerUser: number; replay: { messages: number; bytes: number } };
    /** maxMessageBytes: the longest line a stdio backend may write to stdout; longer ends its session. */
    limits: { maxBodyBytes: number; maxMessageBytes: number };
    /** Browser origins allowed to call the MCP endpoints (proxy.auth.allowedOrigins); empty = any. */
    allowedOrigins: string[];
    /** Host names answered: baseURL's, these, and (when baseURL's is loopback) every loopback name; lower-cased. */
    allowedHosts: string[];
  };
  /** Present when `proxy.auth` is set: MCP endpoints then accept Gatehouse's OAuth tokens. */
  auth?: AuthConfig;
  servers: Record<string, StdioServerConfig>;
}

export interface BuildResult {
  config: GatehouseConfig;
  problems: ConfigProblem[];
  warnings: string[];
}

/** Where building records what it finds, in file order. */
interface Findings {
  readonly problems: ConfigProblem[];
  readonly warnings: string[];
  readonly resolver: EnvResolver;
}

const EMPTY_BASE = { baseURL: '', basePath: '' };

/**
 * Resolves a schema-valid file into `GatehouseConfig`. Failed values become '' placeholders with a
 * problem recorded, so `config` is meaningful only when `problems` is empty.
 */
export function buildGatehouseConfig(file: ConfigFile, env: NodeJS.ProcessEnv): BuildResult {
  const problems: ConfigProblem[] = [];
  const found: Findings = { problems, warnings: [], resolver: new EnvResolver(env, problems) };
  const base = resolveBaseURL(found.resolver.str(file.proxy.baseURL, 'proxy.baseURL'), found);
  const addr = resolveAddr(found.resolver.str(file.proxy.addr, 'proxy.addr'), found);
  const runtime = readRuntimeEnvironment(env);
  const auth = file.proxy.auth && buildAuthConfig(file.proxy.auth, base.baseURL, runtime.devMode, found);
  if (auth?.storage === 'postgres' && runtime.databaseUrl === undefined) {
    problems.push({ path: 'proxy.auth.storage', message: '"postgres" needs DATABASE_URL (postgres://user@host:5432/db)' });
  }

  const servers: Record<string, StdioServerConfig> = {};
  for (const [name, entry] of Object.entries(file.mcpServers)) {
    // Other kinds of server are reported by the not-supported table.
    if (entry.type === 'direct' && entry.transportType === 'stdio') {
      servers[name] = buildStdioServer(name, entry, found);
      if (entry.serviceAuths.length === 0 && !file.proxy.auth) {
        found.warnings.push(
          `${childPath('mcpServers', name)}: no serviceAuths and no proxy.auth, so anyone who can reach Gatehouse can use this server`,
        );
      }
    }
  }
  if (Object.keys(file.mcpServers).length === 0) found.warnings.push('mcpServers: no servers are configured');

  const { sessions, limits } = file.proxy;
  const config: GatehouseConfig = {
    version: file.version,
    proxy: {
      ...base,
      addr,
      name: file.proxy.name,
      sessions: {
        timeoutMs: sessions.timeout,
        cleanupIntervalMs: sessions.cleanupInterval,
        maxPerUser: sessions.maxPerUser,
        replay: sessions.replay,
      },
      limits: { maxBodyBytes: limits.maxBodyBytes, maxMessageBytes: limits.maxMessageBytes },
      allowedOrigins: file.proxy.auth?.allowedOrigins ?? [],
      allowedHosts: file.proxy.allowedHosts.map((h) => h.toLowerCase()),
    },
    ...(auth && { auth }),
    servers,
  };
  return { config, problems, warnings: found.warnings };
}

function resolveBaseURL(text: string | undefined, found: Findings): { baseURL: string; basePath: string } {
  const reject = (message: string) => {
    found.problems.push({ path: 'proxy.baseURL', message });
    return EMPTY_BASE;
  };
  if (text === undefined) return EMPTY_BASE; // its $env problem is already recorded
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return reject('expected an absolute http(s) URL such as "https://mcp.example.com"');
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    return reject('expected a URL without query, fragment or credentials');
  }
  const basePath = url.pathname.replace(/\/+$/, '');
  return { baseURL: url.origin + basePath, basePath };
}

function resolveAddr(text: string | undefined, found: Findings): ListenAddress {
  if (text === undefined) return { host: '', port: 0 }; // its $env problem is already recorded
  try {
    return parseAddr(text);
  } catch (error) {
    found.problems.push({ path: 'proxy.addr', message: messageOf(error) });
    return { host: '', port: 0 };
  }
}

function buildStdioServer(name: string, entry: McpServerEntry, found: Findings): StdioServerConfig {
  const { resolver } = found;
  const path = childPath('mcpServers', name);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(entry.env)) env[key] = resolver.tok(value, childPath(`${path}.env`, key)) ?? '';
  const toolFilter = entry.options?.toolFilter;
  return {
    name,
    transportType: 'stdio',
    // The schema guarantees a command for stdio servers.
    command: entry.command === undefined ? '' : (resolver.str(entry.command, `${path}.command`) ?? ''),
    args: entry.args.map((arg, i) => resolver.tok(arg, `${path}.args[${i}]`) ?? ''),
    env,
    timeoutMs: entry.timeout,
    ...(toolFilter && { toolFilter: { mode: toolFilter.mode, list: toolFilter.list } }),
    serviceAuths: entry.serviceAuths.map((auth, i) => buildServiceAuth(auth, `${path}.serviceAuths[${i}]`, found)),
    runnerGroup: entry.runnerGroup,
  };
}

function buildServiceAuth(auth: McpServerEntry['serviceAuths'][number], path: string, found: Findings): ServiceAuth {
  const name = auth.name === undefined ? {} : { name: auth.name };
  if (auth.type === 'bearer') {
    return { type: 'bearer', ...name, tokens: auth.tokens.map((t, i) => credential(t, `${path}.tokens[${i}]`, found)) };
  }
  return {
    type: 'basic',
    ...name,
    username: credential(auth.username, `${path}.username`, found),
    password: credential(auth.password, `${path}.password`, found),
  };
}

/** A credential must not be empty (it would match an empty header); a literal one earns a warning. */
function credential(value: StrValue, path: string, found: Findings): string {
  const resolved = found.resolver.str(value, path);
  if (resolved === '') found.problems.push({ path, message: 'expected a non-empty value' });
  if (typeof value === 'string' && resolved !== '' && !path.endsWith('.username')) {
    found.warnings.push(`${path}: a secret written in the config file; prefer {"$env": "VAR"}`);
  }
  return resolved ?? '';
}
