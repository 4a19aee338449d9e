export { loadConfig, parseConfig, type LoadResult } from './load-config.js';
export { formatProblems, messageOf, type ConfigProblem } from './config-problem.js';
export {
  ConfigFileSchema,
  DEFAULT_MAX_BODY_BYTES,
  type ConfigFile,
  type ConfigFileInput,
  type McpServerEntry,
} from './config-file.schema.js';
export { McpServerSchema, ServerName, SERVER_NAME, TRANSPORT_TYPES } from './mcp-server.schema.js';
export { ProxyAuthSchema } from './proxy-auth.schema.js';
export { Str, Tok, type EnvReference, type StrValue, type TokValue, type UserTokenTemplate } from './config-value.js';
export { Duration, parseDuration } from './duration.js';
export { parseAddr, type ListenAddress } from './listen-address.js';
export { isLoopbackHostname, type AuthConfig } from './auth-config.js';
export type { AuditConfig, GatehouseConfig } from './gatehouse-config.js';
export {
  DEFAULT_DELIMITER,
  DEFAULT_DISCOVERY,
  DEFAULT_INLINE_MAX_OUTPUT_BYTES,
  type AggregateServerConfig,
  type InlineServerConfig,
  type InlineToolConfig,
  type RemoteServerConfig,
  type ServerConfig,
  type ServiceAuth,
  type StdioServerConfig,
  type ToolAccessRule,
  type ToolFilter,
} from './server-config.js';
export { ARGUMENT_PLACEHOLDER, compileToolInputSchema, type CompiledToolSchema, type ToolArgumentsCheck } from './tool-input-schema.js';
export { childProcessBaseEnvironment, readRuntimeEnvironment, type RuntimeEnvironment } from './runtime-environment.js';
export { withUserToken } from './with-user-token.js';
export type { UserTokenConfig } from './user-token-config.js';
export type { UserTokenSlot } from './user-token-slots.js';
export {
  DEFAULT_TOKEN_FORMAT,
  fillTemplate,
  formatUserToken,
  type ManualUserAuthentication,
  type OAuthUserAuthentication,
  type UserAuthenticationConfig,
} from './user-authentication.js';
export { readTracingEnvironment, type TracingEnvironment } from './tracing-environment.js';
