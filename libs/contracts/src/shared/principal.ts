import { z } from 'zod';

/** Who is calling: sessions belong to a principal's `sub`. */
export const PrincipalSchema = z.object({
  sub: z.string().min(1),
  email: z.string().optional(),
  groups: z.array(z.string()).optional(),
  method: z.enum(['anonymous', 'bearer', 'basic', 'oauth']),
});
export type Principal = z.infer<typeof PrincipalSchema>;
