import type { RemoteServerConfig } from '#config';
import type { Logger } from '#observability';
import type { BackendConnection, BackendLogContext } from '../backend.port.js';
import { SseBackend } from './sse.backend.js';
import { StreamableHttpBackend } from './streamable-http.backend.js';

/** The connection to a remote server for one session, opened from this runner. */
export function createRemoteBackend(
  server: RemoteServerConfig,
  context: BackendLogContext,
  deps: { maxMessageBytes: number; log: Logger },
): BackendConnection {
  const spec = { url: new URL(server.url), headers: server.headers, timeoutMs: server.timeoutMs, ...deps, context };
  return server.transportType === 'sse' ? new SseBackend(spec) : new StreamableHttpBackend(spec);
}
