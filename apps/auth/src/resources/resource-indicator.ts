/**
 * RFC 8707 resource indicators: each configured server is the resource `${baseURL}/${server}`,
 * the `aud` of the tokens granted for it. A requested URI matches after canonicalisation: scheme
 * and host case and default ports (the URL parser's job), and trailing slashes. The server's
 * transport endpoints (`…/mcp`, `…/sse`) name it too, as some clients send those.
 */
export class ResourceIndicators {
  private readonly byUri = new Map<string, string>();

  constructor(
    private readonly baseURL: string,
    serverNames: readonly string[],
  ) {
    for (const name of serverNames) {
      const uri = this.uriOf(name);
      for (const alias of [uri, `${uri}/mcp`, `${uri}/sse`]) this.byUri.set(alias, uri);
    }
  }

  /** The resource URI of a server. */
  uriOf(serverName: string): string {
    return `${this.baseURL}/${serverName}`;
  }

  /** Every server's resource URI, in config order. */
  all(): string[] {
    return [...new Set(this.byUri.values())];
  }

  /** The canonical resource URI that `requested` names, or undefined when it names no server. */
  resolve(requested: string): string | undefined {
    if (!URL.canParse(requested)) return undefined;
    const url = new URL(requested);
    if (url.hash !== '' || url.search !== '' || url.username !== '' || url.password !== '') return undefined;
    return this.byUri.get(url.origin + url.pathname.replace(/\/+$/, ''));
  }

  /** The server name of a canonical resource URI (for pages and logs). */
  serverOf(uri: string): string {
    return uri.slice(this.baseURL.length + 1);
  }
}
