import { z } from 'zod';

/** Published by the runner when a session ends for any reason; every edge listens. */
export const sessionClosedSubject = (sessionId: string) => `gh.session.${sessionId}.closed`;
export const sessionClosedWildcard = 'gh.session.*.closed';

export const SessionClosedEventSchema = z.object({ sessionId: z.string(), reason: z.string() });
export type SessionClosedEvent = z.infer<typeof SessionClosedEventSchema>;
