import { z } from 'zod';

/**
 * A runner asks auth for one person's credential for one server, at the moment a backend needs it
 * (queue group). Auth answers with the value already put through the server's `tokenFormat`,
 * sealed with the gateway's encryptionKey for this (sub, server) only (see `userCredentialAad`), so
 * the plaintext never crosses the bus and only a runner of this gateway can open it.
 */
export const userCredentialSubject = 'gh.auth.credentials.get';
export const userCredentialQueue = 'gh.auth';

export const UserCredentialRequestSchema = z.object({
  /** The person, as in the session's principal (never a service caller's synthetic sub). */
  sub: z.string().min(1).max(512),
  server: z.string().min(1).max(200),
  /**
   * The upstream refused the credential last handed out (401): refresh it now (oauth), once.
   * `rejected` is a hash (sha256 base64url) of the formatted value that was refused, so that a
   * refresh another runner already made is not repeated.
   */
  rejected: z.string().max(100).optional(),
});
export type UserCredentialRequest = z.infer<typeof UserCredentialRequestSchema>;

export const UserCredentialReplySchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('ok'),
    /** Envelope-sealed (libs/crypto Envelope) formatted token; AAD = userCredentialAad(sub, server). */
    sealed: z.string().min(1).max(65536),
    /** When an oauth token expires (ms since epoch), if known: the runner asks again after. */
    expiresAt: z.number().int().optional(),
  }),
  z.object({
    /** The person has not connected this service, or disconnected it, or its refresh failed for good. */
    status: z.literal('missing'),
    /** Absolute URL of the page where the person sets or connects it. */
    connectUrl: z.string().url().max(2048),
    /** Shown to the person: what to do, in one sentence, naming the service. */
    message: z.string().max(500),
  }),
  z.object({
    /** A transient failure (database, the service's token endpoint): worth a retry. */
    status: z.literal('unavailable'),
    message: z.string().max(500),
  }),
]);
export type UserCredentialReply = z.infer<typeof UserCredentialReplySchema>;

/** The additional authenticated data a sealed credential is bound to: it opens only for this person and server. */
export const userCredentialAad = (sub: string, server: string) => `user-credential\u0000${sub}\u0000${server}`;
