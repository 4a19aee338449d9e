/** Injection token of auth's Tracing. */
export const AUTH_TRACING = Symbol('AuthTracing');
