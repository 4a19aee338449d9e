import { z } from 'zod';
import { randomId, type Envelope } from '#crypto';
import { readCookie, type CookieJar } from '../web/cookies.js';
import type { Identity } from '../idp/identity.js';
import type { BrowserSession, BrowserSessions } from './browser-session.port.js';

const COOKIE = 'gh-session';
/** Binds a sealed value to this use: nothing else sealed with the gateway's key opens as a session. */
const AAD = 'gatehouse/browser-session/v1';
/** Re-issued (idle expiry moved on) at most this often, so most requests set no cookie. */
const RENEW_AFTER_MS = 5 * 60_000;

const Payload = z.object({
  id: z.string().min(1),
  /** Whole, so the access policy can be decided again on every use. */
  identity: z.object({
    sub: z.string().min(1),
    email: z.string(),
    emailVerified: z.boolean(),
    hostedDomain: z.string().optional(),
    groups: z.array(z.string()),
    orgs: z.array(z.string()),
  }),
  authenticatedAt: z.number(),
  /** When this cookie was (re-)issued: the idle expiry counts from here. */
  seenAt: z.number(),
});

/** A session read from a request, who it is, and the Set-Cookie that moves its idle expiry on, when due. */
export interface ReadSession {
  session: BrowserSession;
  identity: Identity;
  renewal?: string;
}

type Sealed = z.infer<typeof Payload>;

export interface SealedBrowserSessionsOptions {
  idleTimeoutMs: number;
  maxAgeMs: number;
  now?: () => number;
}

/**
 * Browser sessions held by the browser alone: the cookie is the session sealed with the gateway's
 * Envelope (AES-256-GCM, key ids), so every replica reads it and nothing is stored. Idle expiry
 * slides on use; the absolute expiry counts from the login and never moves. Signing out clears
 * the cookie; a copy taken before then lives until its idle expiry.
 */
export class SealedBrowserSessions implements BrowserSessions {
  private readonly now: () => number;

  constructor(
    private readonly envelope: Envelope,
    private readonly cookies: CookieJar,
    private readonly options: SealedBrowserSessionsOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  read(cookieHeader: string | undefined): Promise<BrowserSession | undefined> {
    return Promise.resolve(this.readRenewing(cookieHeader)?.session);
  }

  /** Like read, with the cookie to send back when the idle expiry is due to move on. */
  readRenewing(cookieHeader: string | undefined): ReadSession | undefined {
    const value = readCookie(cookieHeader, this.cookies.name(COOKIE));
    const payload = value === undefined || value === '' ? undefined : this.open(value);
    const now = this.now();
    if (!payload || !this.live(payload, now)) return undefined;
    const read = { session: sessionOf(payload), identity: identityOf(payload) };
    if (now - payload.seenAt < RENEW_AFTER_MS) return read;
    return { ...read, renewal: this.cookieFor({ ...payload, seenAt: now }, now) };
  }

  /** A new session after a login at the identity provider, and its Set-Cookie. */
  start(identity: Identity): ReadSession {
    const now = this.now();
    const payload: Sealed = { id: randomId(), identity, authenticatedAt: now, seenAt: now };
    return { session: sessionOf(payload), identity, renewal: this.cookieFor(payload, now) };
  }

  /** The Set-Cookie that signs the browser out. */
  end(): string {
    return this.cookies.clear(COOKIE);
  }

  private open(value: string): Sealed | undefined {
    try {
      const parsed = Payload.safeParse(JSON.parse(this.envelope.open(value, AAD)));
      return parsed.success ? parsed.data : undefined;
    } catch {
      // Tampered, foreign, sealed with a key no longer configured, or not JSON: no session.
      return undefined;
    }
  }

  private live(payload: Sealed, now: number): boolean {
    const { idleTimeoutMs, maxAgeMs } = this.options;
    return now - payload.seenAt < idleTimeoutMs && now - payload.authenticatedAt < maxAgeMs && payload.seenAt <= now;
  }

  private cookieFor(payload: Sealed, now: number): string {
    const remaining = Math.min(this.options.idleTimeoutMs, payload.authenticatedAt + this.options.maxAgeMs - now);
    return this.cookies.set(COOKIE, this.envelope.seal(JSON.stringify(payload), AAD), Math.max(0, Math.floor(remaining / 1000)));
  }
}

function sessionOf({ id, identity, authenticatedAt }: Sealed): BrowserSession {
  return { id, sub: identity.sub, email: identity.email, groups: identity.groups, authenticatedAt };
}

function identityOf({ identity }: Sealed): Identity {
  const { hostedDomain, ...rest } = identity;
  return { ...rest, ...(hostedDomain !== undefined && { hostedDomain }) };
}
