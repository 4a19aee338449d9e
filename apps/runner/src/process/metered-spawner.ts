import type { Metrics } from '#observability';
import type { BackendProcess, ProcessSpawner, SpawnSpec } from './child-process.js';

/** A spawner whose processes count for one server: running ones in a gauge, failures to start in a counter. */
export function meteredSpawner(inner: ProcessSpawner, metrics: Metrics, server: string): ProcessSpawner {
  if (!metrics.enabled) return inner;
  return {
    spawn(spec: SpawnSpec): BackendProcess {
      const child = inner.spawn(spec);
      void child.started.then((failure) => {
        if (failure) return metrics.spawnFailed(server);
        metrics.backendProcesses(server, 1);
        void child.exited.then(() => metrics.backendProcesses(server, -1));
      });
      return child;
    },
  };
}
