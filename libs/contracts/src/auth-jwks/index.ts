import { z } from 'zod';

/** Edge asks auth for the public signing keys to verify access tokens locally (queue group). */
export const authJwksSubject = 'gh.auth.jwks.get';
export const authJwksQueue = 'gh.auth';

export const AuthJwksRequestSchema = z.object({});

/** A public JWK as auth publishes it at /.well-known/jwks.json. */
export const PublicJwkSchema = z.looseObject({ kty: z.string(), kid: z.string(), alg: z.string().optional(), use: z.string().optional() });

export const AuthJwksReplySchema = z.object({ keys: z.array(PublicJwkSchema) });
export type AuthJwksReply = z.infer<typeof AuthJwksReplySchema>;
