import { z } from 'zod';

/** Who is calling: sessions belong to a principal's `sub`. */
export const PrincipalSchema = z.object({
  sub: z.string().min(1),
  email: z.string().optional(),
  groups: z.array(z.string()).optional(),
  method: z.enum(['anonymous', 'bearer', 'basic', 'oauth']),
  /** The OAuth client the token was issued to (its `client_id` claim); audit records name it. */
  clientId: z.string().max(2048).optional(),
  /** A service caller (bearer, basic): which of which server's `serviceAuths` authenticated it. */
  serviceAuth: z.object({ server: z.string().min(1).max(200), index: z.int().nonnegative() }).optional(),
});
export type Principal = z.infer<typeof PrincipalSchema>;
