import type { AuditConfig } from '#config';
import {
  isJsonObject,
  paramsOf,
  type AuditKind,
  type AuditOutcome,
  type AuditRecord,
  type JsonRpcMessage,
  type Principal,
  messageText,
} from '#contracts';
import { ArgumentRedaction, withoutCredentials } from './argument-redaction.js';
import type { AuditTrail } from './audit-trail.port.js';

/** Who made a call, as its record names them. */
export type AuditCaller = Pick<Principal, 'sub' | 'email' | 'clientId'>;

type AuditedMethod = Extract<AuditKind, 'tools/call' | 'resources/read' | 'prompts/get'>;
const AUDITED: ReadonlySet<string> = new Set<AuditedMethod>(['tools/call', 'resources/read', 'prompts/get']);
const isAudited = (method: string): method is AuditedMethod => AUDITED.has(method);

/** One audited call in flight: it is recorded once, however it ends. */
export class AuditTicket {
  private done = false;

  constructor(
    private readonly base: {
      at: number;
      kind: AuditKind;
      server: string;
      caller: AuditCaller;
      name: string | undefined;
    },
    /** The request's size and its arguments as recorded: worked out when the record is made, off the call's path. */
    private readonly details: () => { requestBytes: number; arguments: string | undefined },
    private readonly trail: AuditTrail,
    private readonly now: () => number,
    /** Runs `make` after the turn in which the call ended. */
    private readonly later: (make: () => void) => void,
  ) {}

  /** The backend answered. */
  answered(response: JsonRpcMessage): void {
    if (response.error !== undefined) return this.end('protocol_error', errorCodeOf(response));
    const result = isJsonObject(response.result) ? response.result : {};
    if (result['resultType'] === 'input_required') return this.end('input_required');
    this.end(result['isError'] === true ? 'tool_error' : 'ok');
  }

  /** Ended without an answer from the backend: refused, cancelled, or the session ended (a protocol error). */
  end(outcome: AuditOutcome, errorCode?: number): void {
    if (this.done) return;
    this.done = true;
    const { at, kind, server, caller, name } = this.base;
    const durationMs = Math.max(0, Math.round(this.now() - at));
    this.later(() => {
      const { requestBytes, arguments: args } = this.details();
      const record: AuditRecord = { at, kind, outcome, sub: caller.sub, server, durationMs, requestBytes };
      // Set one by one: a spread of each optional member cost a copy of it, for every audited call.
      if (caller.email !== undefined) record.email = caller.email;
      if (caller.clientId !== undefined) record.clientId = caller.clientId;
      if (name !== undefined) record.name = name;
      if (errorCode !== undefined) record.errorCode = errorCode;
      if (args !== undefined) record.arguments = args;
      this.trail.record(record);
    });
  }
}

/**
 * Decides which calls are audited and opens their tickets; off, it opens none and costs one check.
 * A record is made in the turn after its call ended, in the order the calls ended: the answer
 * leaves first (the NATS bus sends in the turn's check phase), and the record, about 20 µs of a
 * lone call's path when made before it, no longer delays it (bench/notes.md, the ninth round).
 * The request's size and arguments are worked out then too, not on the request's way in.
 */
export class CallAudit {
  private readonly redaction: ArgumentRedaction | undefined;
  private pending: (() => void)[] = [];

  constructor(
    private readonly config: AuditConfig,
    private readonly trail: AuditTrail,
    private readonly now: () => number = Date.now,
  ) {
    this.redaction = config.arguments ? new ArgumentRedaction(config.redact, config.maxArgumentBytes) : undefined;
  }

  /** Makes the records still waiting for their turn, then sends what the trail holds; called once sessions have ended. */
  close(): Promise<void> {
    this.makePending();
    return this.trail.close();
  }

  /** A ticket for a tools/call, resources/read or prompts/get; undefined for anything else. */
  begin(request: JsonRpcMessage & { method: string }, server: string, caller: AuditCaller): AuditTicket | undefined {
    const kind = request.method;
    if (!this.config.enabled || !isAudited(kind)) return undefined;
    const params = paramsOf(request);
    const named = kind === 'resources/read' ? params['uri'] : params['name'];
    // A resource URI may carry a token in its query or user info.
    const name = typeof named !== 'string' ? undefined : kind === 'resources/read' ? withoutCredentials(named) : named;
    // The request is never changed once received (a backend is sent copies), so it can be measured
    // later, by its kept text when it has one (see messageText) instead of stringifying it again.
    const details = () => ({
      requestBytes: Buffer.byteLength(messageText(request) ?? JSON.stringify(request)),
      arguments: this.redaction?.text(params['arguments']),
    });
    return new AuditTicket({ at: this.now(), kind, server, caller, name }, details, this.trail, this.now, this.later);
  }

  private readonly later = (make: () => void): void => {
    if (this.pending.push(make) === 1) setImmediate(() => this.makePending());
  };

  private makePending(): void {
    const pending = this.pending;
    this.pending = [];
    for (const make of pending) make();
  }
}

/** The code of an error response, when it has a numeric one. */
export function errorCodeOf(response: JsonRpcMessage): number | undefined {
  const error: unknown = response.error;
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return typeof code === 'number' && Number.isSafeInteger(code) ? code : undefined;
}

/** Audit off: no tickets. */
export const noCallAudit = new CallAudit(
  { enabled: false, arguments: false, redact: [], maxArgumentBytes: 1, retentionMs: 0 },
  { record: () => undefined, close: () => Promise.resolve() },
);
