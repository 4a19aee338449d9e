import type { RemoteServerConfig } from '#config';
import type { Logger, Metrics } from '#observability';
import type { BackendLogContext } from '../backend.port.js';
import type { RemoteBackend, UpstreamCredential } from './remote-backend.js';
import { SseBackend } from './sse.backend.js';
import { StreamableHttpBackend } from './streamable-http.backend.js';
import type { UpstreamFaultKind } from './upstream-faults.js';

/** The connection to a remote server for one session, opened from this runner. */
export function createRemoteBackend(
  server: RemoteServerConfig,
  context: BackendLogContext,
  deps: { maxMessageBytes: number; log: Logger; metrics: Metrics },
  credential?: UpstreamCredential,
): RemoteBackend {
  const spec = {
    url: new URL(server.url),
    headers: server.headers,
    timeoutMs: server.timeoutMs,
    maxMessageBytes: deps.maxMessageBytes,
    log: deps.log,
    context,
    onFault: (kind: UpstreamFaultKind) => deps.metrics.upstreamError(server.name, kind),
    ...(credential && { credential }),
  };
  return server.transportType === 'sse' ? new SseBackend(spec) : new StreamableHttpBackend(spec);
}
