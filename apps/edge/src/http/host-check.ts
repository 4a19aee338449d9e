import { isLoopbackHostname } from '#config';

/**
 * The Host names the edge answers: baseURL's, `allowedHosts`, and every loopback name when
 * baseURL's is one. A page on another name that resolves to the gateway (DNS rebinding) is refused.
 */
export class HostPolicy {
  private readonly names: ReadonlySet<string>;
  private readonly loopback: boolean;

  constructor(baseURL: string, allowedHosts: readonly string[]) {
    const own = new URL(baseURL).hostname.toLowerCase();
    this.names = new Set([own, ...allowedHosts.map((h) => h.toLowerCase())]);
    this.loopback = isLoopbackHostname(own);
  }

  allows(host: string | undefined): boolean {
    const hostname = hostnameOf(host);
    return hostname !== undefined && (this.names.has(hostname) || (this.loopback && isLoopbackHostname(hostname)));
  }
}

/** A Host header is a name (or bracketed IPv6 address) and an optional port; anything else names no host. */
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::\d{1,5})?$/;

function hostnameOf(host: string | undefined): string | undefined {
  return HOST.exec((host ?? '').toLowerCase())?.[1];
}
