import { z } from 'zod';
import { checkByHand, trustInProcess } from '../shared/codec.js';
import { isBusJsonRpcMessage, JsonRpcMessageSchema, onlyKeys } from '../shared/json-rpc.js';
import { messageJson } from '../shared/message-text.js';
import { isJsonObject } from '../shared/mcp-meta.js';
import { replySchema } from '../shared/reply.js';
import { isStreamMessage, STREAM_SUBJECT_PATTERN, StreamMessageSchema, StreamSubjectSchema } from '../session-stream/index.js';

/** Client messages for a session's backend, in order; the reply is a SessionInReply. */
export const sessionInSubject = (runnerId: string, sessionId: string) => `gh.runner.${runnerId}.session.${sessionId}.in`;
/** One verb's subject for every session of one runner. */
export const runnerSessionsWildcard = (runnerId: string, verb: 'in' | 'touch' | 'attach' | 'close') =>
  `gh.runner.${runnerId}.session.*.${verb}`;

/** The session id and verb of a runner session subject, or undefined when it is not one. */
export function parseSessionSubject(subject: string): { sessionId: string; verb: string } | undefined {
  const [gh, runner, , session, sessionId, verb, ...rest] = subject.split('.');
  const shaped = gh === 'gh' && runner === 'runner' && session === 'session' && rest.length === 0;
  return shaped && sessionId !== undefined && verb !== undefined ? { sessionId, verb } : undefined;
}

export const SessionInRequestSchema = z.object({
  /** One POST's messages: a batch arrives whole, so the runner knows every request its stream answers. */
  messages: z.array(JsonRpcMessageSchema).min(1),
  /** Stream subject that receives the responses to these requests and their progress. */
  stream: StreamSubjectSchema.optional(),
  /**
   * The edge takes, in the reply, what `stream` would have carried until the runner replies: a
   * runner holds its reply a moment for the answer, so a quick call costs one bus message, not
   * two. A runner that does not know this field replies at once, and everything goes to `stream`.
   */
  answerInReply: z.literal(true).optional(),
});
export type SessionInRequest = z.infer<typeof SessionInRequestSchema>;

/** Taken, and with `answerInReply` the stream's first events (ending with its end when it ended), in order. */
export const SessionInReplySchema = replySchema({ events: z.array(StreamMessageSchema).optional() });
export type SessionInReply = z.infer<typeof SessionInReplySchema>;
trustInProcess(SessionInRequestSchema, SessionInReplySchema);

/** The members of a request, which sessionInJson writes: one added to SessionInRequest fails to compile here. */
const WRITTEN: Record<keyof SessionInRequest, true> = { messages: true, stream: true, answerInReply: true };
const REQUEST_KEYS = new Set(Object.keys(WRITTEN));
const TAKEN_KEYS = new Set(['ok', 'events']);

/**
 * The request's JSON: JSON.stringify's, except that each message whose text was kept (a client's
 * lone message, as its body held it: see messageText) is that text, which parses to the same
 * message. Every call's messages cross the bus this way.
 */
export function sessionInJson(request: SessionInRequest): string {
  const stream = request.stream === undefined ? '' : `,"stream":${JSON.stringify(request.stream)}`;
  const answerInReply = request.answerInReply === true ? ',"answerInReply":true' : '';
  return `{"messages":[${request.messages.map(messageJson).join(',')}]${stream}${answerInReply}}`;
}

/** SessionInRequestSchema's check by hand (see `checkByHand`): every POST's messages cross it. */
export function isSessionInRequest(value: unknown): value is SessionInRequest {
  return (
    isJsonObject(value) &&
    onlyKeys(value, REQUEST_KEYS) &&
    Array.isArray(value.messages) &&
    value.messages.length > 0 &&
    value.messages.every(isBusJsonRpcMessage) &&
    (value.stream === undefined || (typeof value.stream === 'string' && STREAM_SUBJECT_PATTERN.test(value.stream))) &&
    (value.answerInReply === undefined || value.answerInReply === true)
  );
}

/** SessionInReplySchema's check by hand for the reply that takes the messages (a refusal goes to the schema). */
export function isSessionInTaken(value: unknown): value is SessionInReply {
  return (
    isJsonObject(value) &&
    onlyKeys(value, TAKEN_KEYS) &&
    value.ok === true &&
    (value.events === undefined || (Array.isArray(value.events) && value.events.every(isStreamMessage)))
  );
}

checkByHand(SessionInRequestSchema, isSessionInRequest);
checkByHand(SessionInReplySchema, isSessionInTaken);
