import { z } from 'zod';

/** Stable error codes a runner may answer with. */
export const ReplyErrorCodeSchema = z.enum([
  'SESSION_NOT_FOUND',
  'SESSION_LIMIT',
  'UNKNOWN_SERVER',
  'BACKEND_FAILED',
  'BAD_REQUEST',
  /** Something the service depends on (the route store) failed: worth a retry. */
  'UNAVAILABLE',
  'INTERNAL',
]);
export type ReplyErrorCode = z.infer<typeof ReplyErrorCodeSchema>;

export const ReplyErrorSchema = z.object({ code: ReplyErrorCodeSchema, message: z.string() });
export type ReplyError = z.infer<typeof ReplyErrorSchema>;

/** `{ ok: true, ...value }` or `{ ok: false, error }` — the shape of every control-plane reply. */
export function replySchema<T extends z.ZodRawShape>(shape: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), ...shape }),
    z.object({ ok: z.literal(false), error: ReplyErrorSchema }),
  ]);
}

export const AckReplySchema = replySchema({});
export type AckReply = z.infer<typeof AckReplySchema>;
