import { Controller, Get, Inject, Options, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { EdgeOptions } from '../edge.module.js';
import { EDGE_OPTIONS } from '../edge.tokens.js';

const ROOT = '.well-known/oauth-protected-resource';
const PREFIX = `${ROOT}/:server`;

/** RFC 9728 metadata for one MCP server: what an OAuth client reads before going to the authorization server. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: string[];
  scopes_supported: string[];
  resource_name: string;
}

/**
 * Protected-resource metadata of the gateway itself (resource = baseURL, named by proxy.name) and per server, where the 401 challenge points (and, for clients that
 * derive it from the MCP URL, at `/mcp` and `/sse` after the server name). Public and cacheable.
 */
@Controller()
export class ProtectedResourceController {
  private readonly servers: ReadonlySet<string>;

  constructor(@Inject(EDGE_OPTIONS) private readonly options: EdgeOptions) {
    this.servers = new Set(Object.keys(options.config.servers));
  }

  @Get([PREFIX, `${PREFIX}/mcp`, `${PREFIX}/sse`])
  async metadata(@Param('server') server: string, @Res() reply: FastifyReply): Promise<void> {
    const known = this.servers.has(server);
    await this.answer(reply, known ? `/${server}` : undefined, server);
  }

  /** Clients that discover from the gateway's URL rather than a server's. */
  @Get(ROOT)
  async gateway(@Res() reply: FastifyReply): Promise<void> {
    await this.answer(reply, '', this.options.config.proxy.name);
  }

  /** Browser clients send MCP-Protocol-Version with the lookup, which needs a CORS preflight. */
  @Options([ROOT, PREFIX, `${PREFIX}/mcp`, `${PREFIX}/sse`])
  async preflight(@Res() reply: FastifyReply): Promise<void> {
    await reply
      .status(204)
      .header('access-control-allow-origin', '*')
      .header('access-control-allow-methods', 'GET, OPTIONS')
      .header('access-control-allow-headers', 'mcp-protocol-version')
      .header('access-control-max-age', '86400')
      .send();
  }

  /** The metadata of `${baseURL}${path}`, or 404 when there is no such resource or no OAuth. */
  private async answer(reply: FastifyReply, path: string | undefined, name: string): Promise<void> {
    const { config } = this.options;
    void reply.header('access-control-allow-origin', '*');
    if (!config.auth || path === undefined) {
      await reply.status(404).type('application/json').send({ error: 'not_found', error_description: 'no such protected resource' });
      return;
    }
    const body: ProtectedResourceMetadata = {
      resource: `${config.proxy.baseURL}${path}`,
      authorization_servers: [config.auth.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp'],
      resource_name: name,
    };
    await reply.status(200).header('cache-control', 'public, max-age=300').type('application/json').send(body);
  }
}
