import type { ServerConfig } from '#config';
import type { Logger } from '#observability';
import type { ProcessSpawner } from '../process/child-process.js';
import type { BackendConnection, BackendLogContext } from './backend.port.js';
import { createRemoteBackend } from './remote/create-remote-backend.js';
import { StdioBackend } from './stdio.backend.js';

export interface BackendDeps {
  spawner: ProcessSpawner;
  /** The allowlisted part of the gateway's environment that backends may see. */
  childBaseEnv: Record<string, string>;
  maxMessageBytes: number;
  log: Logger;
}

/** The connection to one session's backend, by the kind of server. */
export function createBackend(server: ServerConfig, context: BackendLogContext, deps: BackendDeps): BackendConnection {
  switch (server.transportType) {
    case 'stdio': {
      const env = { ...deps.childBaseEnv, ...server.env };
      const spec = { command: server.command, args: server.args, env };
      return new StdioBackend(deps.spawner, spec, deps.log, context, { maxMessageBytes: deps.maxMessageBytes });
    }
    case 'streamable-http':
    case 'sse':
      return createRemoteBackend(server, context, deps);
    default:
      // Refused at load by the not-supported table until its backend lands.
      throw new Error(`${server.transportType} servers are not supported yet`);
  }
}
