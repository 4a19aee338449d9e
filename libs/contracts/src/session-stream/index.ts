import { z } from 'zod';
import { checkByHand, trustInProcess } from '../shared/codec.js';
import { isBusJsonRpcMessage, JsonRpcMessageSchema, onlyKeys } from '../shared/json-rpc.js';
import { isJsonObject } from '../shared/mcp-meta.js';

/**
 * Backend messages for one open HTTP stream on one edge: responses and their progress are
 * published; server-initiated messages are requests answered with a DeliveryReply so the runner
 * can buffer what no stream took.
 */
export const streamSubject = (edgeId: string, streamId: string) => `gh.edge.${edgeId}.stream.${streamId}`;
export const edgeStreamsWildcard = (edgeId: string) => `gh.edge.${edgeId}.stream.*`;

/** A stream subject as edges make them: anything else is refused before a runner publishes to it. */
export const STREAM_SUBJECT_PATTERN = /^gh\.edge\.[A-Za-z0-9_-]{1,32}\.stream\.[A-Za-z0-9_-]{1,32}$/;
export const StreamSubjectSchema = z.string().regex(STREAM_SUBJECT_PATTERN, {
  error: 'expected a stream subject gh.edge.<edge>.stream.<stream>',
});

/** The stream id of a stream subject: also the key of the logical stream at the runner, which outlives it. */
export function streamIdOf(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}

/**
 * One event of a stream: a message (with its SSE event id when the stream is resumable), and/or
 * `end` once the stream carries nothing more (every request on it answered or cancelled).
 */
export const StreamMessageSchema = z.object({
  sessionId: z.string(),
  eventId: z.string().optional(),
  message: JsonRpcMessageSchema.optional(),
  end: z.literal(true).optional(),
});
export type StreamMessage = z.infer<typeof StreamMessageSchema>;

const STREAM_MESSAGE_KEYS = new Set(['sessionId', 'eventId', 'message', 'end']);

/** StreamMessageSchema's check by hand (see `checkByHand`): a stream's every event crosses it. */
export function isStreamMessage(value: unknown): value is StreamMessage {
  return (
    isJsonObject(value) &&
    onlyKeys(value, STREAM_MESSAGE_KEYS) &&
    typeof value.sessionId === 'string' &&
    (value.eventId === undefined || typeof value.eventId === 'string') &&
    (value.message === undefined || isBusJsonRpcMessage(value.message)) &&
    (value.end === undefined || value.end === true)
  );
}

export const DeliveryReplySchema = z.object({ delivered: z.boolean() });
export type DeliveryReply = z.infer<typeof DeliveryReplySchema>;
trustInProcess(StreamMessageSchema, DeliveryReplySchema);
checkByHand(StreamMessageSchema, isStreamMessage);

/**
 * SSE event ids: `<logical stream key>.<position>`. The key is a POST stream's id, or
 * STANDALONE_STREAM_KEY for the session's GET stream; positions count from 1 (0 = before the first).
 */
export const STANDALONE_STREAM_KEY = 'get';
const EVENT_ID = /^([A-Za-z0-9_-]{1,32})\.(\d{1,15})$/;

export function eventIdOf(key: string, position: number): string {
  return `${key}.${position}`;
}

/** The stream key and position an event id names, or undefined when it is not one of ours. */
export function parseEventId(eventId: string): { key: string; position: number } | undefined {
  const match = EVENT_ID.exec(eventId);
  return match?.[1] !== undefined && match[2] !== undefined ? { key: match[1], position: Number(match[2]) } : undefined;
}
