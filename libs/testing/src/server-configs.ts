import type { StdioServerConfig } from '#config';

/** A resolved stdio server as the config loader makes it, for specs that need one without a file. */
export function stdioServerConfig(name: string, extra: Partial<StdioServerConfig> = {}): StdioServerConfig {
  return {
    name,
    transportType: 'stdio',
    command: 'node',
    args: [],
    env: {},
    timeoutMs: 1000,
    serviceAuths: [],
    runnerGroup: 'default',
    ...extra,
  };
}
