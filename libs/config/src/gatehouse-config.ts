import { messageOf, type ConfigProblem } from './config-problem.js';
import type { ConfigFile } from './config-file.schema.js';
import { EnvResolver } from './config-value.js';
import { buildServers, type ServerConfig } from './server-config.js';
import { parseAddr, type ListenAddress } from './listen-address.js';
import { buildAuthConfig, type AuthConfig } from './auth-config.js';
import { readRuntimeEnvironment } from './runtime-environment.js';

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
    /** maxPerUser: Infinity when the file says 0 (mcp-front's "unlimited"). */
    sessions: {
      timeoutMs: number;
      cleanupIntervalMs: number;
      maxPerUser: number;
      replay: { messages: number; bytes: number };
      /** Warm sessions for stateless (2026-07-28) requests: per identity, server and capability set. */
      pool: { size: number; idleTimeoutMs: number; inputTimeoutMs: number; listTtlMs: number };
    };
    /** maxMessageBytes: the longest line a stdio backend may write to stdout; longer ends its session. */
    limits: { maxBodyBytes: number; maxMessageBytes: number };
    /** Browser origins allowed to call the MCP endpoints (proxy.auth.allowedOrigins); empty = any. */
    allowedOrigins: string[];
    /** Host names answered: baseURL's, these, and (when baseURL's is loopback) every loopback name; lower-cased. */
    allowedHosts: string[];
    /** The audit trail; retentionMs 0 keeps records forever. */
    audit: AuditConfig;
  };
  /** Present when `proxy.auth` is set: MCP endpoints then accept Gatehouse's OAuth tokens. */
  auth?: AuthConfig;
  servers: Record<string, ServerConfig>;
}

export interface AuditConfig {
  enabled: boolean;
  arguments: boolean;
  redact: string[];
  maxArgumentBytes: number;
  retentionMs: number;
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
  const written =
    file.proxy.baseURL === undefined ? undefined : resolveBaseURL(found.resolver.str(file.proxy.baseURL, 'proxy.baseURL'), found);
  const addr = resolveAddr(found.resolver.str(file.proxy.addr, 'proxy.addr'), found);
  const base = written ?? deriveBaseURL(addr, found);
  const runtime = readRuntimeEnvironment(env);
  const auth = file.proxy.auth && buildAuthConfig(file.proxy.auth, base.baseURL, runtime.devMode, found);
  if (auth?.storage === 'postgres' && runtime.databaseUrl === undefined) {
    problems.push({ path: 'proxy.auth.storage', message: '"postgres" needs DATABASE_URL (postgres://user@host:5432/db)' });
  }

  const servers = buildServers(file, found);

  const { sessions, limits, audit } = file.proxy;
  const config: GatehouseConfig = {
    version: file.version,
    proxy: {
      ...base,
      addr,
      name: file.proxy.name,
      sessions: {
        timeoutMs: sessions.timeout,
        cleanupIntervalMs: sessions.cleanupInterval,
        maxPerUser: sessions.maxPerUser === 0 ? Number.POSITIVE_INFINITY : sessions.maxPerUser,
        replay: sessions.replay,
        pool: {
          size: sessions.pool.size,
          idleTimeoutMs: sessions.pool.idleTimeout,
          inputTimeoutMs: sessions.pool.inputTimeout,
          listTtlMs: sessions.pool.listTtl,
        },
      },
      limits: { maxBodyBytes: limits.maxBodyBytes, maxMessageBytes: limits.maxMessageBytes },
      allowedOrigins: file.proxy.auth?.allowedOrigins ?? [],
      allowedHosts: file.proxy.allowedHosts.map((h) => h.toLowerCase()),
      audit: {
        enabled: audit.enabled,
        arguments: audit.arguments,
        redact: audit.redact,
        maxArgumentBytes: audit.maxArgumentBytes,
        retentionMs: audit.retention,
      },
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

/** mcp-front's "try it locally" file has no baseURL: this machine, on the port Gatehouse listens on. */
function deriveBaseURL(addr: ListenAddress, found: Findings): { baseURL: string; basePath: string } {
  if (found.problems.some((p) => p.path === 'proxy.addr')) return EMPTY_BASE;
  if (addr.port === 0) {
    found.problems.push({ path: 'proxy.baseURL', message: 'required when proxy.addr picks a free port (port 0)' });
    return EMPTY_BASE;
  }
  const baseURL = `http://localhost:${addr.port}`;
  found.warnings.push(
    `proxy.baseURL: not set, so Gatehouse uses ${baseURL} (from proxy.addr); set it to the URL your clients use to reach Gatehouse`,
  );
  return { baseURL, basePath: '' };
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
