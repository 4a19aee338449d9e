import type { ServerConfig } from '#config';
import type { Principal } from '#contracts';
import type { Logger } from '#observability';
import type { ProcessSpawner } from '../process/child-process.js';
import { AggregateBackend } from './aggregate/aggregate.backend.js';
import type { AggregateHub } from './aggregate/aggregate-hub.js';
import type { BackendConnection, BackendLogContext } from './backend.port.js';
import { InlineBackend } from './inline/inline.backend.js';
import { createRemoteBackend } from './remote/create-remote-backend.js';
import { StdioBackend } from './stdio.backend.js';

export interface BackendDeps {
  spawner: ProcessSpawner;
  /** The allowlisted part of the gateway's environment that backends may see. */
  childBaseEnv: Record<string, string>;
  maxMessageBytes: number;
  log: Logger;
  /** Every configured server: an aggregate's members are looked up here. */
  servers: Readonly<Record<string, ServerConfig>>;
  aggregates: AggregateHub;
}

/** The connection to one session's backend, by the kind of server. */
export function createBackend(
  server: ServerConfig,
  context: BackendLogContext,
  principal: Principal,
  deps: BackendDeps,
): BackendConnection {
  switch (server.transportType) {
    case 'aggregate': {
      const members = server.members.flatMap((name) => {
        const member = deps.servers[name];
        return member ? [{ name, runnerGroup: member.runnerGroup, timeoutMs: member.timeoutMs }] : [];
      });
      const settings = { name: server.name, members, delimiter: server.delimiter, discovery: server.discovery };
      return new AggregateBackend(settings, principal, deps.aggregates, deps.log, context);
    }
    case 'stdio': {
      const env = { ...deps.childBaseEnv, ...server.env };
      const spec = { command: server.command, args: server.args, env };
      return new StdioBackend(deps.spawner, spec, deps.log, context, { maxMessageBytes: deps.maxMessageBytes });
    }
    case 'inline':
      return new InlineBackend(server, { spawner: deps.spawner, childBaseEnv: deps.childBaseEnv, log: deps.log }, context);
    case 'streamable-http':
    case 'sse':
      return createRemoteBackend(server, context, deps);
  }
}
