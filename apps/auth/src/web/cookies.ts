/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Browser cookies of the login flow: `__Host-` (no Domain, Path=/, so no other host or path can
 * set or read them), Secure, HttpOnly, SameSite=Lax (sent on the identity provider's redirect
 * back, not on cross-site POSTs). Dev mode on plain http drops the prefix and Secure, which
 * browsers require of each other.
 */
export class CookieJar {
  constructor(private readonly secure: boolean) {}

  name(base: string): string {
    return this.secure ? `__Host-${base}` : base;
  }

  set(base: string, value: string, maxAgeSec: number): string {
    const secure = this.secure ? '; Secure' : '';
    return `${this.name(base)}=${value}; Path=/; Max-Age=${maxAgeSec}; HttpOnly; SameSite=Lax${secure}`;
  }

  clear(base: string): string {
    return this.set(base, '', 0);
  }
}
