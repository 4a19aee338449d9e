/** The documents RFC 8414 §3.1 and RFC 9728 §3.1 look for with the issuer's or resource's path after the well-known name. */
const INSERTED = ['oauth-authorization-server', 'openid-configuration', 'oauth-protected-resource'];

/**
 * Under a base path, discovery clients ask the origin root: `/.well-known/oauth-authorization-server/gw`
 * for issuer `https://h/gw`, `/.well-known/oauth-protected-resource/gw/db/mcp` for `https://h/gw/db/mcp`.
 * This maps those URLs onto the routes under the base path (`/gw/.well-known/...`) before routing,
 * so each document keeps one handler. It grants nothing new: the client could send the result itself.
 * Undefined without a base path, where the two forms are the same URL.
 */
export function wellKnownPathInsertion(basePath: string): ((req: { url?: string }) => string) | undefined {
  if (basePath === '') return undefined;
  return ({ url = '/' }) => {
    for (const name of INSERTED) {
      const inserted = `/.well-known/${name}${basePath}`;
      const rest = url.slice(inserted.length);
      if (url.startsWith(inserted) && /^([/?]|$)/.test(rest)) return `${basePath}/.well-known/${name}${rest}`;
    }
    return url;
  };
}
