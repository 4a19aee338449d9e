import { z } from 'zod';
import { Str } from './config-value.js';
import { Duration } from './duration.js';
import { McpServerSchema, ServerName } from './mcp-server.schema.js';
import { ProxyAuthSchema } from './proxy-auth.schema.js';

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** A DNS name, an IPv4 address, or a bracketed IPv6 address, as a Host header names it without its port. */
const HOST_NAME = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)$/;

/** Gatehouse addition: what a session keeps so a dropped stream resumes (Last-Event-ID) with nothing lost. */
const ReplaySchema = z.strictObject({
  messages: z.int().positive().default(256),
  bytes: z
    .int()
    .positive()
    .default(1024 * 1024),
});

/** Gatehouse addition: warm sessions serving stateless (2026-07-28) requests, per identity and server. */
const PoolSchema = z.strictObject({
  size: z.int().positive().default(2),
  idleTimeout: Duration.prefault('5m'),
  inputTimeout: Duration.prefault('5m'),
  listTtl: Duration.prefault('1m'),
});

const SessionsSchema = z.strictObject({
  timeout: Duration.prefault('5m'),
  cleanupInterval: Duration.prefault('1m'),
  // 0 = unlimited, as in mcp-front.
  maxPerUser: z.int().nonnegative().default(10),
  replay: ReplaySchema.prefault({}),
  pool: PoolSchema.prefault({}),
});

/** Gatehouse addition: request limits, and the longest message a stdio backend may send. */
const LimitsSchema = z.strictObject({
  maxBodyBytes: z.int().positive().default(DEFAULT_MAX_BODY_BYTES),
  maxMessageBytes: z.int().positive().default(DEFAULT_MAX_MESSAGE_BYTES),
});

/** Gatehouse addition: the audit trail of calls, logins, consents, revocations and credential changes. */
const AuditSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Keep each call's arguments (JSON, redacted, capped); off by default: arguments may hold personal data. */
  arguments: z.boolean().default(false),
  /** Parts of argument key names whose values are replaced by "[redacted]" at any depth, besides the built-in ones; case-insensitive. */
  redact: z.array(z.string().min(1).max(100)).default([]),
  maxArgumentBytes: z.int().positive().max(65_536).default(2048),
  /** How long records are kept; "0" keeps them forever. */
  retention: Duration.prefault('2160h'),
});

/** mcp-front's admin pages (until February 2026): accepted and ignored. */
const AdminSchema = z.strictObject({
  enabled: z.boolean().optional(),
  adminEmails: z.array(z.string()).optional(),
});

const ProxySchema = z.strictObject({
  /** Absent: `http://localhost:<addr's port>`, with a warning (mcp-front's "try it locally" file has none). */
  baseURL: Str.optional(),
  addr: Str.default(':8080'),
  /** Gatehouse addition: Host names answered besides baseURL's (DNS-rebinding protection). */
  allowedHosts: z
    .array(z.string().regex(HOST_NAME, { error: 'expected a host name such as "mcp.internal.example" (no scheme, port or path)' }))
    .default([]),
  name: z.string().default('Gatehouse'),
  sessions: SessionsSchema.prefault({}),
  auth: ProxyAuthSchema.optional(),
  admin: AdminSchema.optional(),
  limits: LimitsSchema.prefault({}),
  audit: AuditSchema.prefault({}),
});

/**
 * The mcp-front configuration file plus Gatehouse's optional keys. Unknown keys are errors.
 * `$env` stays an `EnvReference` here (resolved by `loadConfig`); durations become milliseconds.
 */
export const ConfigFileSchema = z.strictObject({
  version: z.string().min(1, { error: 'expected a version such as "v0.0.1-DEV_EDITION_EXPECT_CHANGES"' }),
  proxy: ProxySchema,
  mcpServers: z.record(ServerName, McpServerSchema),
});

/** A config file as written. */
export type ConfigFileInput = z.input<typeof ConfigFileSchema>;
/** A config file after the schema: defaults applied, durations in ms, references still unresolved. */
export type ConfigFile = z.output<typeof ConfigFileSchema>;
export type McpServerEntry = ConfigFile['mcpServers'][string];
