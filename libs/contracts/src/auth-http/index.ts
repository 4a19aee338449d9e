import { z } from 'zod';

/** Browser and OAuth routes relayed by edge to auth as HTTP-over-bus (queue group). */
export const authHttpSubject = 'gh.auth.http';
export const authHttpQueue = 'gh.auth';

export const AuthHttpRequestSchema = z.object({
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']),
  /** The path and query as the client sent it: it starts with `/`. */
  url: z.string().startsWith('/').max(8192),
  headers: z.record(z.string(), z.string()),
  /** base64 */
  body: z.string(),
  /** The caller's address as edge saw it (for per-IP limits); never taken from a client header. */
  clientIp: z.string(),
});
export type AuthHttpRequest = z.infer<typeof AuthHttpRequestSchema>;

export const AuthHttpResponseSchema = z.object({
  status: z.number().int(),
  headers: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  /** base64 */
  body: z.string(),
});
export type AuthHttpResponse = z.infer<typeof AuthHttpResponseSchema>;
