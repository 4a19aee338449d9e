import type { ServerConfig } from '#config';
import type { Principal } from '#contracts';
import type { Logger, Metrics } from '#observability';
import type { CredentialLookup } from '../credentials/credential-lookup.js';
import type { ProcessSpawner } from '../process/child-process.js';
import { meteredSpawner } from '../process/metered-spawner.js';
import { AggregateBackend } from './aggregate/aggregate.backend.js';
import type { AggregateHub } from './aggregate/aggregate-hub.js';
import type { BackendConnection, BackendLogContext } from './backend.port.js';
import { CredentialGate, type FilledBackend } from './credential/credential-gate.js';
import { InlineBackend } from './inline/inline.backend.js';
import { createRemoteBackend } from './remote/create-remote-backend.js';
import type { UpstreamCredential } from './remote/remote-backend.js';
import { StdioBackend } from './stdio.backend.js';

export interface BackendDeps {
  spawner: ProcessSpawner;
  /** The allowlisted part of the gateway's environment that backends may see. */
  childBaseEnv: Record<string, string>;
  maxMessageBytes: number;
  log: Logger;
  metrics: Metrics;
  /** Every configured server: an aggregate's members are looked up here. */
  servers: Readonly<Record<string, ServerConfig>>;
  aggregates: AggregateHub;
  /** Where a server's `$userToken` values come from; absent without proxy.auth (then no server has any). */
  credentials?: CredentialLookup;
}

/** Without proxy.auth the config admits no `$userToken`, so this is never asked; if it were, nothing would start. */
const NO_CREDENTIALS: CredentialLookup = {
  get: (server) =>
    Promise.resolve({ status: 'unavailable', message: `${server.name} needs a user token, and the gateway has no proxy.auth` }),
};

/** The connection to one session's backend, by the kind of server. */
export function createBackend(
  server: ServerConfig,
  context: BackendLogContext,
  principal: Principal,
  deps: BackendDeps,
): BackendConnection {
  if (!server.userToken) return createFilledBackend(server, context, principal, deps).backend;
  return new CredentialGate(server, principal, {
    lookup: deps.credentials ?? NO_CREDENTIALS,
    connect: (filled, upstream) => createFilledBackend(filled, context, principal, deps, upstream),
    log: deps.log,
    context,
  });
}

/** The backend of a server whose `$userToken` values, if any, are filled in. */
function createFilledBackend(
  server: ServerConfig,
  context: BackendLogContext,
  principal: Principal,
  deps: BackendDeps,
  upstream?: UpstreamCredential,
): FilledBackend {
  switch (server.transportType) {
    case 'aggregate': {
      const members = server.members.flatMap((name) => {
        const member = deps.servers[name];
        return member ? [{ name, runnerGroup: member.runnerGroup, timeoutMs: member.timeoutMs }] : [];
      });
      const settings = { name: server.name, members, delimiter: server.delimiter, discovery: server.discovery };
      return { backend: new AggregateBackend(settings, principal, deps.aggregates, deps.log, context) };
    }
    case 'stdio': {
      const env = { ...deps.childBaseEnv, ...server.env };
      const spec = { command: server.command, args: server.args, env };
      const spawner = meteredSpawner(deps.spawner, deps.metrics, server.name);
      return { backend: new StdioBackend(spawner, spec, deps.log, context, { maxMessageBytes: deps.maxMessageBytes }) };
    }
    case 'inline': {
      const spawner = meteredSpawner(deps.spawner, deps.metrics, server.name);
      return { backend: new InlineBackend(server, { spawner, childBaseEnv: deps.childBaseEnv, log: deps.log }, context) };
    }
    case 'streamable-http':
    case 'sse': {
      const backend = createRemoteBackend(server, context, deps, upstream);
      return { backend, renewHeaders: (headers) => backend.renewHeaders(headers) };
    }
  }
}
