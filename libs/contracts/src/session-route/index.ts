import { z } from 'zod';

/** Session ids: 128 random bits, base64url; anything else never reaches a subject or a KV key. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** KV bucket where any edge finds which runner owns a session. */
export const SESSION_ROUTES_BUCKET = 'gh-sessions';

export const SessionRouteSchema = z.object({
  /** Empty until a legacy SSE session has been initialized. */
  runnerId: z.string(),
  sub: z.string(),
  server: z.string(),
  transport: z.enum(['streamable-http', 'sse']),
  /** Legacy SSE: the stream every response goes to. */
  stream: z.string().optional(),
});
export type SessionRoute = z.infer<typeof SessionRouteSchema>;
