import { z } from 'zod';

/** Session ids: 128 random bits, base64url; anything else never reaches a subject or a KV key. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** KV bucket where any edge finds which runner owns a session; only the owning runner writes it. */
export const SESSION_ROUTES_BUCKET = 'gh-sessions';

/** `pool`: a warm session serving stateless (2026-07-28) calls; no client holds it, so no client names it. */
export const SessionTransportSchema = z.enum(['streamable-http', 'sse', 'pool']);
export type SessionTransport = z.infer<typeof SessionTransportSchema>;

export const SessionRouteSchema = z.object({
  runnerId: z.string().min(1),
  sub: z.string(),
  server: z.string(),
  transport: SessionTransportSchema,
});
export type SessionRoute = z.infer<typeof SessionRouteSchema>;
