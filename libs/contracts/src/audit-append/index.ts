import { z } from 'zod';
import { trustInProcess } from '../shared/codec.js';
import { optional } from '../shared/json-rpc.js';
import { isJsonObject } from '../shared/mcp-meta.js';

/** What an audit record is about: an MCP call a runner relayed, or something a person did at auth. */
export const AuditKindSchema = z.enum(['tools/call', 'resources/read', 'prompts/get', 'login', 'consent', 'revocation', 'credential']);
export type AuditKind = z.infer<typeof AuditKindSchema>;

/**
 * How it ended. Calls: `ok`, `input_required` (a 2026-07-28 backend asked the client for input;
 * the client's retry is a call of its own), `tool_error` (a result with isError), `protocol_error`
 * (a JSON-RPC error, or the session ended first), `refused` (by the server's tool policy),
 * `cancelled` (by the client). Logins end as the login metric's outcomes; consents `ok` or `denied`; the rest `ok`.
 */
export const AuditOutcomeSchema = z.enum([
  'ok',
  'input_required',
  'tool_error',
  'protocol_error',
  'refused',
  'cancelled',
  'denied',
  'failed',
  'expired',
  'wrong_browser',
]);
export type AuditOutcome = z.infer<typeof AuditOutcomeSchema>;

/** Longest text per field; `boundedAuditRecord` cuts to these, so one long value never costs a whole batch. */
const MAX_CHARS = { sub: 255, email: 255, clientId: 2048, server: 255, name: 2048, arguments: 65_600, detail: 1024 } as const;
const short = z.string().max(255);

const RECORD_ID = /^[A-Za-z0-9_-]{16,32}$/;

/** One audited event. Never a token or a credential; arguments only when configured, redacted and capped. */
export const AuditRecordSchema = z.object({
  /** Given where the record is made: a batch sent twice is stored once. */
  id: z.string().regex(RECORD_ID).optional(),
  /** Epoch ms at which the event began. */
  at: z.number().int().nonnegative(),
  kind: AuditKindSchema,
  outcome: AuditOutcomeSchema,
  sub: short.optional(),
  email: short.optional(),
  /** The OAuth client the person used; absent for bearer and basic callers. */
  clientId: z.string().max(2048).optional(),
  server: short.optional(),
  /** The tool or prompt name, or the resource URI. */
  name: z.string().max(2048).optional(),
  durationMs: z.number().int().nonnegative().optional(),
  requestBytes: z.number().int().nonnegative().optional(),
  /** The JSON-RPC error code of a protocol error. */
  errorCode: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).optional(),
  /** JSON text of the call's arguments, redacted and capped (`proxy.audit.arguments`). */
  arguments: z.string().max(MAX_CHARS.arguments).optional(),
  /** A short, secret-free note: what was revoked, which scopes a consent covered. */
  detail: z.string().max(1024).optional(),
});
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

/** The record's text fields: what `boundedAuditRecord` cuts, and what a record's size is mostly made of. */
export const AUDIT_TEXT_FIELDS = [
  'sub',
  'email',
  'clientId',
  'server',
  'name',
  'arguments',
  'detail',
] as const satisfies readonly (keyof typeof MAX_CHARS)[];

/**
 * The record as the store takes it, under `id` unless it has one: every text field cut to its
 * bound and without NUL (which PostgreSQL refuses), an error code only when it is a safe integer.
 * Names come from clients: one odd value must never cost a batch. A copy; the record is not changed.
 */
export function boundedAuditRecord(record: AuditRecord, id: string): AuditRecord {
  const bounded = { id, ...record };
  for (const field of AUDIT_TEXT_FIELDS) {
    const value = bounded[field];
    // Most values need neither: looking costs less than cutting and replacing every one.
    if (value !== undefined && (value.length > MAX_CHARS[field] || value.includes('\u0000'))) {
      bounded[field] = value.slice(0, MAX_CHARS[field]).replaceAll('\u0000', '\uFFFD');
    }
  }
  if (bounded.errorCode !== undefined && !Number.isSafeInteger(bounded.errorCode)) delete bounded.errorCode;
  return bounded;
}

const AUDIT_KINDS: ReadonlySet<unknown> = new Set(AuditKindSchema.options);
const AUDIT_OUTCOMES: ReadonlySet<unknown> = new Set(AuditOutcomeSchema.options);
const isCount = (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * AuditRecordSchema's verdict, by hand: a runner checks each record it sends, one per audited call,
 * where the schema cost several times more (it also copies the record). A property test holds the
 * two to the same answers.
 */
export function isAuditRecord(value: unknown): value is AuditRecord {
  if (!isJsonObject(value)) return false;
  const { id, at, kind, outcome, durationMs, requestBytes, errorCode } = value;
  return (
    optional(id, (v) => typeof v === 'string' && RECORD_ID.test(v)) &&
    isCount(at) &&
    AUDIT_KINDS.has(kind) &&
    AUDIT_OUTCOMES.has(outcome) &&
    AUDIT_TEXT_FIELDS.every((field) => optional(value[field], (v) => typeof v === 'string' && v.length <= MAX_CHARS[field])) &&
    optional(durationMs, isCount) &&
    optional(requestBytes, isCount) &&
    optional(errorCode, Number.isSafeInteger)
  );
}

/** Runners send their records to auth in batches (queue group); the reply is an AckReply once stored. */
export const auditAppendSubject = 'gh.auth.audit.append';
export const auditAppendQueue = 'gh.auth';
export const AUDIT_BATCH_MAX = 500;
export const AuditAppendRequestSchema = z.object({ records: z.array(AuditRecordSchema).min(1).max(AUDIT_BATCH_MAX) });
export type AuditAppendRequest = z.infer<typeof AuditAppendRequestSchema>;
// A record for every call: the runner's audit trail checks each against AuditRecordSchema before it sends it.
trustInProcess(AuditAppendRequestSchema);
