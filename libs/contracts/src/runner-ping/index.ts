import { z } from 'zod';

/** Readiness: any live runner answers (queue group, so one reply). */
export const runnerPingSubject = 'gh.runner.ping';
export const runnerPingQueue = 'gh.runner';

export const RunnerPingRequestSchema = z.object({});

export const RunnerPingReplySchema = z.object({ runnerId: z.string(), group: z.string(), sessions: z.number() });
export type RunnerPingReply = z.infer<typeof RunnerPingReplySchema>;
