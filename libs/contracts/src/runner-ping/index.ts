import { z } from 'zod';

/** Readiness: any live runner of the group answers (queue group, so one reply). */
export const runnerPingSubject = (runnerGroup: string) => `gh.runner.${runnerGroup}.ping`;
export const runnerPingQueue = (runnerGroup: string) => `gh.runner.${runnerGroup}`;

export const RunnerPingRequestSchema = z.object({});

export const RunnerPingReplySchema = z.object({ runnerId: z.string(), group: z.string(), sessions: z.number() });
export type RunnerPingReply = z.infer<typeof RunnerPingReplySchema>;

/** The group a ping subject names. */
export function groupOfPingSubject(subject: string): string {
  return subject.split('.')[2] ?? '';
}
