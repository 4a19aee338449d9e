import fc from 'fast-check';
import type { z } from 'zod';
import * as contracts from './index.js';

/** Payloads a contract must take (round-trip unchanged) and payloads it must refuse. */
export interface ContractSamples {
  schema: z.ZodType;
  valid: fc.Arbitrary<unknown>;
  invalid: fc.Arbitrary<unknown>;
}

const text = fc.string({ unit: 'binary', maxLength: 40 });
const nonEmpty = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0));
const sessionId = fc.stringMatching(/^[A-Za-z0-9_-]{22}$/);
/** Session ids that could escape a subject token or a KV key: wildcards, dots, spaces, wrong length. */
const badSessionId = fc.oneof(
  fc.constantFrom('a.b.>', '*', '>', 'AAAAAAAAAAAAAAAAAAAAA.', 'AAAAAAAAAAAAAAAAAAAA A', '', 'AAAAAAAAAAAAAAAAAAAAAAA'),
  text.filter((s) => !/^[A-Za-z0-9_-]{22}$/.test(s)),
);
/** Any JSON value of another type than a string, for a field that must be one. */
const notString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 }),
);
const notNumber = fc.oneof(text, fc.boolean(), fc.constant(null), fc.object({ maxDepth: 1 }));

const requestId = fc.oneof(fc.integer(), text);
const jsonRpc = fc.oneof(
  fc.record({ jsonrpc: fc.constant('2.0'), id: requestId, method: nonEmpty }),
  fc.record({ jsonrpc: fc.constant('2.0'), method: nonEmpty, params: fc.dictionary(text, fc.jsonValue({ maxDepth: 2 })) }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: requestId, result: fc.dictionary(text, fc.jsonValue({ maxDepth: 2 })) }),
);
const badJsonRpc = fc.oneof(
  fc.record({ jsonrpc: fc.oneof(fc.constantFrom('1.0', '2', '', '2.0 '), notString), id: requestId, method: nonEmpty }),
  fc.record({ id: requestId, method: nonEmpty }),
  notString.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)),
);
const principal = fc.record(
  {
    sub: nonEmpty,
    email: text,
    groups: fc.array(text, { maxLength: 3 }),
    method: fc.constantFrom('anonymous', 'bearer', 'basic', 'oauth'),
  },
  { requiredKeys: ['sub', 'method'] },
);
const badPrincipal = fc.oneof(
  principal.map((p) => ({ ...p, sub: '' })),
  principal.map((p) => ({ ...p, method: 'magic' })),
  principal.map((p) => ({ ...p, groups: 'admins' })),
  principal.map(({ sub }) => ({ sub })),
);
const replyError = fc.record({
  code: fc.constantFrom('SESSION_NOT_FOUND', 'SESSION_LIMIT', 'UNKNOWN_SERVER', 'BACKEND_FAILED', 'BAD_REQUEST', 'UNAVAILABLE', 'INTERNAL'),
  message: text,
});
const revocation = fc.record({ kind: fc.constantFrom('jti', 'grant'), value: nonEmpty, until: finite });
const badRevocation = fc.oneof(
  revocation.map((r) => ({ ...r, kind: 'user' })),
  revocation.map((r) => ({ ...r, value: '' })),
  revocation.chain((r) => notNumber.map((until) => ({ ...r, until }))),
);

/** Replaces one required field of a valid payload with a value of the wrong type, or drops it. */
function breakField<T extends Record<string, unknown>>(valid: fc.Arbitrary<T>, field: keyof T & string, wrong: fc.Arbitrary<unknown>) {
  return fc.oneof(
    fc.tuple(valid, wrong).map(([value, bad]) => ({ ...value, [field]: bad })),
    valid.map((value) => Object.fromEntries(Object.entries(value).filter(([key]) => key !== field))),
  );
}

const empty = fc.constant({});
const notAnObject = fc.oneof(fc.integer(), text, fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }));

/** Stream subjects as edges make them, and strings that must never be taken for one. */
const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/);
const streamSubject = fc.tuple(token, token).map(([edge, stream]) => `gh.edge.${edge}.stream.${stream}`);
const badStreamSubject = fc.oneof(
  fc.constantFrom('gh.auth.http', 'gh.edge.e.stream.*', 'gh.edge.e.stream.a.b', 'not a subject', ''),
  notString,
);
const transport = fc.constantFrom('streamable-http', 'sse');

const authHttpRequest = fc.record({
  method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
  url: text.map((path) => `/${path}`),
  headers: fc.dictionary(text, text, { maxKeys: 4 }),
  body: fc.base64String({ maxLength: 40 }),
  clientIp: text,
});
const authHttpResponse = fc.record({
  status: fc.integer({ min: 100, max: 599 }),
  headers: fc.dictionary(text, fc.oneof(text, fc.array(text, { maxLength: 3 })), { maxKeys: 4 }),
  body: fc.base64String({ maxLength: 40 }),
});
const publicJwk = fc.record(
  { kty: fc.constantFrom('EC', 'RSA', 'OKP'), kid: text, alg: text, use: text, x: text },
  { requiredKeys: ['kty', 'kid'] },
);
const sessionOpenRequest = fc.record(
  { sessionId, server: nonEmpty, principal, transport, initialize: jsonRpc, stream: streamSubject },
  { requiredKeys: ['sessionId', 'server', 'principal', 'transport'] },
);
const sessionOpenReply = fc.oneof(
  fc.record({ ok: fc.constant(true), runnerId: nonEmpty, response: jsonRpc }, { requiredKeys: ['ok', 'runnerId'] }),
  fc.record({ ok: fc.constant(false), error: replyError }),
);
const poolCallRequest = fc.record({ server: nonEmpty, principal, message: jsonRpc, stream: streamSubject });
const poolCallReply = fc.oneof(
  fc.record({ ok: fc.constant(true), runnerId: nonEmpty, sessionId }),
  fc.record({ ok: fc.constant(false), error: replyError }),
);
const poolRoute = fc.record({ runnerId: nonEmpty, sub: text, server: text });
const sessionRoute = fc.record({ runnerId: nonEmpty, sub: text, server: text, transport });
const sessionIn = fc.record(
  { messages: fc.array(jsonRpc, { minLength: 1, maxLength: 3 }), stream: streamSubject, answerInReply: fc.constant(true as const) },
  { requiredKeys: ['messages'] },
);
const attach = fc.oneof(
  fc.record({ attach: streamSubject, resumeAfter: text }, { requiredKeys: ['attach'] }),
  fc.record({ detach: streamSubject }),
);
const ack = fc.oneof(fc.constant({ ok: true }), fc.record({ ok: fc.constant(false), error: replyError }));
const attachReply = fc.oneof(
  fc.record({ ok: fc.constant(true), eventId: text }, { requiredKeys: ['ok'] }),
  fc.record({ ok: fc.constant(false), error: replyError }),
);
const runnerPingReply = fc.record({ runnerId: text, group: text, sessions: finite });
const streamMessage = fc.record(
  { sessionId: text, eventId: text, message: jsonRpc, end: fc.constant(true) },
  { requiredKeys: ['sessionId'] },
);

/** One entry per zod schema exported by #contracts; the fuzz spec fails for a schema missing here. */
const auditRecord = fc.record(
  {
    at: fc.nat(),
    kind: fc.constantFrom(...contracts.AuditKindSchema.options),
    outcome: fc.constantFrom(...contracts.AuditOutcomeSchema.options),
    sub: text,
    email: text,
    clientId: text,
    server: text,
    name: text,
    durationMs: fc.nat(),
    requestBytes: fc.nat(),
    errorCode: fc.integer(),
    arguments: text,
    detail: text,
  },
  { requiredKeys: ['at', 'kind', 'outcome'] },
);
const badAuditRecord = fc.oneof(
  auditRecord.map((r) => ({ ...r, at: -1 })),
  auditRecord.map((r) => ({ ...r, kind: 'tools/list' })),
  auditRecord.map((r) => ({ ...r, outcome: 'fine' })),
  auditRecord.map((r) => ({ ...r, durationMs: 1.5 })),
  auditRecord.map((r) => ({ ...r, sub: 'x'.repeat(256) })),
  notNumber.chain((at) => auditRecord.map((r) => ({ ...r, at }))),
  notAnObject,
);

export const CONTRACT_SAMPLES: Record<string, ContractSamples> = {
  JsonRpcMessageSchema: { schema: contracts.JsonRpcMessageSchema, valid: jsonRpc, invalid: badJsonRpc },
  PrincipalSchema: { schema: contracts.PrincipalSchema, valid: principal, invalid: badPrincipal },
  ReplyErrorCodeSchema: {
    schema: contracts.ReplyErrorCodeSchema,
    valid: replyError.map((e) => e.code),
    invalid: fc.oneof(
      text.filter((s) => !/^[A-Z_]+$/.test(s)),
      notString,
    ),
  },
  ReplyErrorSchema: {
    schema: contracts.ReplyErrorSchema,
    valid: replyError,
    invalid: fc.oneof(
      breakField(
        replyError,
        'code',
        text.filter((s) => !/^[A-Z_]+$/.test(s)),
      ),
      breakField(replyError, 'message', notString),
    ),
  },
  AckReplySchema: {
    schema: contracts.AckReplySchema,
    valid: ack,
    invalid: fc.oneof(
      fc.constant({ ok: 'true' }),
      fc.constant({ ok: false }),
      replyError.map((error) => ({ ok: 1, error })),
      notAnObject,
    ),
  },
  AuthHttpRequestSchema: {
    schema: contracts.AuthHttpRequestSchema,
    valid: authHttpRequest,
    invalid: fc.oneof(
      breakField(authHttpRequest, 'method', fc.constantFrom('CONNECT', 'TRACE', 'get', '')),
      breakField(authHttpRequest, 'url', fc.constantFrom('', 'http://elsewhere/', 'x')),
      breakField(authHttpRequest, 'headers', fc.constant({ a: 1 })),
      breakField(authHttpRequest, 'clientIp', notString),
      breakField(authHttpRequest, 'body', notString),
    ),
  },
  AuthHttpResponseSchema: {
    schema: contracts.AuthHttpResponseSchema,
    valid: authHttpResponse,
    invalid: fc.oneof(
      breakField(authHttpResponse, 'status', fc.oneof(fc.constantFrom(200.5, '200'), notNumber)),
      breakField(authHttpResponse, 'headers', fc.constant({ a: [1] })),
    ),
  },
  AuthJwksRequestSchema: { schema: contracts.AuthJwksRequestSchema, valid: empty, invalid: notAnObject },
  PublicJwkSchema: { schema: contracts.PublicJwkSchema, valid: publicJwk, invalid: breakField(publicJwk, 'kid', notString) },
  AuthJwksReplySchema: {
    schema: contracts.AuthJwksReplySchema,
    valid: fc.record({ keys: fc.array(publicJwk, { maxLength: 3 }) }),
    invalid: fc.oneof(fc.constant({ keys: [{ kid: 'k' }] }), fc.constant({ keys: {} }), fc.constant({})),
  },
  UserCredentialRequestSchema: {
    schema: contracts.UserCredentialRequestSchema,
    valid: fc.record({ sub: nonEmpty, server: nonEmpty, rejected: token }, { requiredKeys: ['sub', 'server'] }),
    invalid: fc.oneof(fc.constant({ sub: '', server: 's' }), fc.constant({ server: 's' }), fc.constant({ sub: 'a', server: 1 })),
  },
  UserCredentialReplySchema: {
    schema: contracts.UserCredentialReplySchema,
    valid: fc.oneof(
      fc.record({ status: fc.constant('ok'), sealed: nonEmpty, expiresAt: fc.integer() }, { requiredKeys: ['status', 'sealed'] }),
      fc.record({
        status: fc.constant('missing'),
        connectUrl: fc.constant('https://gw.example/oauth/connect?service=linear'),
        message: text,
      }),
      fc.record({ status: fc.constant('unavailable'), message: text }),
    ),
    invalid: fc.oneof(
      fc.constant({ status: 'ok', sealed: '' }),
      fc.constant({ status: 'missing', connectUrl: 'not a url', message: 'm' }),
      fc.constant({ status: 'maybe' }),
    ),
  },
  RunnerPingRequestSchema: { schema: contracts.RunnerPingRequestSchema, valid: empty, invalid: notAnObject },
  RunnerPingReplySchema: {
    schema: contracts.RunnerPingReplySchema,
    valid: runnerPingReply,
    invalid: fc.oneof(breakField(runnerPingReply, 'sessions', notNumber), breakField(runnerPingReply, 'runnerId', notString)),
  },
  SessionCloseRequestSchema: {
    schema: contracts.SessionCloseRequestSchema,
    valid: fc.record({ reason: text }),
    invalid: breakField(fc.record({ reason: text }), 'reason', notString),
  },
  SessionClosedEventSchema: {
    schema: contracts.SessionClosedEventSchema,
    valid: fc.record({ sessionId: text, reason: text }),
    invalid: breakField(fc.record({ sessionId: text, reason: text }), 'sessionId', notString),
  },
  SessionInRequestSchema: {
    schema: contracts.SessionInRequestSchema,
    valid: sessionIn,
    invalid: fc.oneof(
      breakField(
        sessionIn,
        'messages',
        fc.oneof(
          fc.constant([]),
          badJsonRpc.map((m) => [m]),
        ),
      ),
      sessionIn.chain((v) => badStreamSubject.map((stream) => ({ ...v, stream }))),
      sessionIn.map((v) => ({ ...v, answerInReply: false })),
    ),
  },
  SessionInReplySchema: {
    schema: contracts.SessionInReplySchema,
    valid: fc.oneof(
      ack,
      fc.array(streamMessage, { maxLength: 3 }).map((events) => ({ ok: true as const, events })),
    ),
    invalid: fc.oneof(
      fc.constant({ ok: true, events: {} }),
      streamMessage.map((event) => ({ ok: true, events: [{ ...event, end: false }] })),
      fc.constant({ ok: false }),
      notAnObject,
    ),
  },
  SessionOpenRequestSchema: {
    schema: contracts.SessionOpenRequestSchema,
    valid: sessionOpenRequest,
    invalid: fc.oneof(
      breakField(sessionOpenRequest, 'sessionId', badSessionId),
      breakField(sessionOpenRequest, 'server', fc.constant('')),
      breakField(sessionOpenRequest, 'principal', badPrincipal),
      breakField(sessionOpenRequest, 'transport', fc.constantFrom('websocket', 'SSE', '')),
      sessionOpenRequest.chain((v) => badJsonRpc.map((initialize) => ({ ...v, initialize }))),
      sessionOpenRequest.chain((v) => badStreamSubject.map((stream) => ({ ...v, stream }))),
    ),
  },
  SessionOpenReplySchema: {
    schema: contracts.SessionOpenReplySchema,
    valid: sessionOpenReply,
    invalid: fc.oneof(
      jsonRpc.map((response) => ({ ok: true, runnerId: '', response })),
      nonEmpty.map((runnerId) => ({ ok: true, runnerId, response: 'not a message' })),
      fc.constant({ ok: false, error: { code: 'NOPE', message: '' } }),
      notAnObject,
    ),
  },
  PoolCallRequestSchema: {
    schema: contracts.PoolCallRequestSchema,
    valid: poolCallRequest,
    invalid: fc.oneof(
      breakField(poolCallRequest, 'server', fc.constant('')),
      breakField(poolCallRequest, 'principal', badPrincipal),
      poolCallRequest.chain((v) => badJsonRpc.map((message) => ({ ...v, message }))),
      poolCallRequest.chain((v) => badStreamSubject.map((stream) => ({ ...v, stream }))),
      poolCallRequest.map(({ stream: _, ...v }) => v),
    ),
  },
  PoolCallReplySchema: {
    schema: contracts.PoolCallReplySchema,
    valid: poolCallReply,
    invalid: fc.oneof(
      poolCallReply.filter((r) => r.ok).map((r) => ({ ...r, sessionId: 'not-a-session-id' })),
      fc.constant({ ok: true, runnerId: '' }),
      fc.constant({ ok: false, error: { code: 'NOPE', message: '' } }),
      notAnObject,
    ),
  },
  PoolRouteSchema: {
    schema: contracts.PoolRouteSchema,
    valid: poolRoute,
    invalid: fc.oneof(breakField(poolRoute, 'runnerId', fc.constant('')), breakField(poolRoute, 'sub', notString), notAnObject),
  },
  SessionRouteSchema: {
    schema: contracts.SessionRouteSchema,
    valid: sessionRoute,
    invalid: fc.oneof(
      breakField(sessionRoute, 'transport', fc.constantFrom('websocket', 'SSE', '')),
      breakField(sessionRoute, 'sub', notString),
      breakField(sessionRoute, 'runnerId', fc.constant('')),
    ),
  },
  StreamMessageSchema: {
    schema: contracts.StreamMessageSchema,
    valid: streamMessage,
    invalid: fc.oneof(
      streamMessage.chain((v) => badJsonRpc.map((message) => ({ ...v, message }))),
      streamMessage.map((v) => ({ ...v, end: false })),
      breakField(streamMessage, 'sessionId', notString),
    ),
  },
  DeliveryReplySchema: {
    schema: contracts.DeliveryReplySchema,
    valid: fc.record({ delivered: fc.boolean() }),
    invalid: fc.oneof(fc.constantFrom({ delivered: 'yes' }, { delivered: 1 }, {}), notAnObject),
  },
  SessionTouchRequestSchema: { schema: contracts.SessionTouchRequestSchema, valid: empty, invalid: notAnObject },
  SessionAttachRequestSchema: {
    schema: contracts.SessionAttachRequestSchema,
    valid: attach,
    invalid: fc.oneof(
      badStreamSubject.map((subject) => ({ attach: subject })),
      badStreamSubject.map((subject) => ({ detach: subject })),
      streamSubject.map((subject) => ({ attach: subject, resumeAfter: 'x'.repeat(65) })),
      fc.constant({}),
      notAnObject,
    ),
  },
  AttachReplySchema: {
    schema: contracts.AttachReplySchema,
    valid: attachReply,
    invalid: fc.oneof(fc.constant({ ok: true, eventId: 5 }), fc.constant({ ok: false }), notAnObject),
  },
  SessionTransportSchema: {
    schema: contracts.SessionTransportSchema,
    valid: transport,
    invalid: fc.oneof(fc.constantFrom('ws', 'SSE'), notString),
  },
  StreamSubjectSchema: { schema: contracts.StreamSubjectSchema, valid: streamSubject, invalid: badStreamSubject },
  RevocationSchema: { schema: contracts.RevocationSchema, valid: revocation, invalid: badRevocation },
  TokenRevokedEventSchema: { schema: contracts.TokenRevokedEventSchema, valid: revocation, invalid: badRevocation },
  RevocationsListRequestSchema: { schema: contracts.RevocationsListRequestSchema, valid: empty, invalid: notAnObject },
  AuditKindSchema: {
    schema: contracts.AuditKindSchema,
    valid: fc.constantFrom(...contracts.AuditKindSchema.options),
    invalid: fc.oneof(fc.constantFrom('tools/list', 'Login', ''), notString),
  },
  AuditOutcomeSchema: {
    schema: contracts.AuditOutcomeSchema,
    valid: fc.constantFrom(...contracts.AuditOutcomeSchema.options),
    invalid: fc.oneof(fc.constantFrom('OK', 'error', ''), notString),
  },
  AuditRecordSchema: { schema: contracts.AuditRecordSchema, valid: auditRecord, invalid: badAuditRecord },
  AuditAppendRequestSchema: {
    schema: contracts.AuditAppendRequestSchema,
    valid: fc.record({ records: fc.array(auditRecord, { minLength: 1, maxLength: 3 }) }),
    invalid: fc.oneof(
      badAuditRecord.map((r) => ({ records: [r] })),
      fc.constant({ records: [] }),
      fc.constant({}),
      notAnObject,
    ),
  },
  RevocationsListReplySchema: {
    schema: contracts.RevocationsListReplySchema,
    valid: fc.record({ revocations: fc.array(revocation, { maxLength: 3 }) }),
    invalid: fc.oneof(
      badRevocation.map((r) => ({ revocations: [r] })),
      fc.constant({ revocations: 'all' }),
      fc.constant({}),
    ),
  },
};
