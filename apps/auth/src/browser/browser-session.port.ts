/**
 * The person signed in in this browser, from the sealed `__Host-` session cookie set after an
 * identity-provider login (see BrowserSessions). Pages and the upstream OAuth flows act for
 * `sub` only; `id` is what a flow started in this browser is bound to (its `state`).
 */
export interface BrowserSession {
  /** Random, per login; never the cookie's value. */
  id: string;
  sub: string;
  email?: string;
  groups?: string[];
  /** When the identity provider last vouched for the person (ms since epoch). */
  authenticatedAt: number;
}

/** Reads the browser session a request's cookies carry; pages and flows depend only on this. */
export interface BrowserSessions {
  /** The live session the Cookie header holds, or undefined (none, tampered, idle or past its absolute expiry). */
  read(cookieHeader: string | undefined): Promise<BrowserSession | undefined>;
}
