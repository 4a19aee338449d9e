/** Where a browser's walk ended: at the client's redirect URI, or on a page. */
export type BrowserStop = { kind: 'redirect'; url: URL } | { kind: 'page'; status: number; url: URL; html: string };

/**
 * An HTTP client that behaves like a browser for the login pages: it keeps cookies per host and
 * follows redirects by hand, so a test sees each hop and stops at the client's redirect URI.
 */
export class ScriptedBrowser {
  private readonly jar = new Map<string, Map<string, string>>();

  async open(url: string | URL, stopAt: string): Promise<BrowserStop> {
    return this.walk(new URL(url), stopAt, { method: 'GET' });
  }

  /** Like `open`, for a walk that must end at `stopAt`: resolves with that URL, throws at a page. */
  async follow(url: string | URL, stopAt: string): Promise<URL> {
    const stop = await this.open(url, stopAt);
    if (stop.kind === 'redirect') return stop.url;
    throw new Error(`the browser stopped at ${stop.url.origin}${stop.url.pathname} with HTTP ${stop.status}: ${stop.html.slice(0, 300)}`);
  }

  /** Submits a form (application/x-www-form-urlencoded) and follows where it leads. */
  async submit(url: string | URL, fields: [string, string][], stopAt: string): Promise<BrowserStop> {
    const body = new URLSearchParams(fields).toString();
    return this.walk(new URL(url), stopAt, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  private async walk(start: URL, stopAt: string, first: RequestInit): Promise<BrowserStop> {
    let url = start;
    let init: RequestInit = first;
    for (let hop = 0; hop < 20; hop++) {
      if (url.href.startsWith(stopAt)) return { kind: 'redirect', url };
      const headers = new Headers(init.headers);
      const cookie = this.cookieHeader(url);
      if (cookie) headers.set('cookie', cookie);
      const res = await fetch(url, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
      this.store(url, res.headers.getSetCookie());
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        url = new URL(location, url);
        init = { method: 'GET' };
        continue;
      }
      return { kind: 'page', status: res.status, url, html: await res.text() };
    }
    throw new Error(`more than 20 redirects from ${start.href}`);
  }

  private cookieHeader(url: URL): string {
    return [...(this.jar.get(url.host) ?? new Map<string, string>()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private store(url: URL, setCookies: string[]): void {
    const cookies = this.jar.get(url.host) ?? new Map<string, string>();
    this.jar.set(url.host, cookies);
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a));
      if (expired) cookies.delete(name);
      else cookies.set(name, pair.slice(eq + 1).trim());
    }
  }
}
