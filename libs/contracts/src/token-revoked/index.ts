import { z } from 'zod';

/**
 * A revoked access token (`jti`) or grant (every token carrying that `gid`), denied until
 * `until` (epoch ms), the expiry of the last token it covers. Every edge listens (no queue).
 */
export const RevocationSchema = z.object({ kind: z.enum(['jti', 'grant']), value: z.string().min(1), until: z.number() });
export type Revocation = z.infer<typeof RevocationSchema>;

export const tokenRevokedSubject = 'gh.auth.token.revoked';
export const TokenRevokedEventSchema = RevocationSchema;
export type TokenRevokedEvent = z.infer<typeof TokenRevokedEventSchema>;

/** An edge that starts, or may have missed events, asks auth for every active revocation (queue group). */
export const revocationsListSubject = 'gh.auth.revocations.list';
export const revocationsListQueue = 'gh.auth';
export const RevocationsListRequestSchema = z.object({});
export const RevocationsListReplySchema = z.object({ revocations: z.array(RevocationSchema) });
export type RevocationsListReply = z.infer<typeof RevocationsListReplySchema>;
