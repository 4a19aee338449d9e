import { JsonRpcCode, type Principal } from '#contracts';
import { authenticate, type ServiceAuth } from '../credentials/service-auth.js';
import { header, McpHttpError, type McpHttpRequest } from './http-io.js';

/** What the edge needs to know of a configured server. */
export interface EdgeServer {
  name: string;
  serviceAuths: readonly ServiceAuth[];
  runnerGroup: string;
  /** Time allowed to start the backend and answer initialize. */
  timeoutMs: number;
}

export interface Admitted {
  server: EdgeServer;
  principal: Principal;
}

/** Server exists, Origin allowed, caller authenticated — or the request is refused. */
export class Admission {
  constructor(
    private readonly servers: ReadonlyMap<string, EdgeServer>,
    private readonly origins: { allowed: readonly string[]; own: string },
  ) {}

  admit(req: McpHttpRequest, serverName: string): Admitted {
    const server = this.servers.get(serverName);
    if (!server) throw new McpHttpError(404, JsonRpcCode.invalidRequest, `No MCP server named ${JSON.stringify(serverName)}`);
    const origin = header(req.headers, 'origin');
    if (origin !== undefined && !this.originAllowed(origin, server)) {
      throw new McpHttpError(403, JsonRpcCode.invalidRequest, `Origin ${JSON.stringify(origin)} is not allowed`);
    }
    const auth = authenticate(header(req.headers, 'authorization'), server.serviceAuths, server.name);
    if (!auth.ok) {
      throw new McpHttpError(401, JsonRpcCode.invalidRequest, 'Unauthorized: missing or invalid credentials', {
        'www-authenticate': auth.challenges,
      });
    }
    return { server, principal: auth.principal };
  }

  /**
   * The configured allow-list when there is one. Without it, a server that takes no credentials
   * answers only pages of the gateway's own origin: a web page elsewhere must not reach it by DNS
   * rebinding. A server with credentials is safe from such pages, which cannot know them.
   */
  private originAllowed(origin: string, server: EdgeServer): boolean {
    if (this.origins.allowed.length > 0) return this.origins.allowed.includes(origin);
    return server.serviceAuths.length > 0 || origin === this.origins.own;
  }
}
