import { z } from 'zod';
import { JsonRpcMessageSchema } from '../shared/json-rpc.js';

/**
 * Backend messages for one open HTTP stream on one edge: responses and their progress are
 * published; server-initiated messages are requests answered with a DeliveryReply so the runner
 * can buffer what no stream took.
 */
export const streamSubject = (edgeId: string, streamId: string) => `gh.edge.${edgeId}.stream.${streamId}`;
export const edgeStreamsWildcard = (edgeId: string) => `gh.edge.${edgeId}.stream.*`;

export const StreamMessageSchema = z.object({ sessionId: z.string(), message: JsonRpcMessageSchema });
export type StreamMessage = z.infer<typeof StreamMessageSchema>;

export const DeliveryReplySchema = z.object({ delivered: z.boolean() });
export type DeliveryReply = z.infer<typeof DeliveryReplySchema>;
