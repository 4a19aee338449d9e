import { GatehouseError, JsonRpcCode, type RequestId } from '#contracts';

type Headers = Readonly<Record<string, string | string[]>>;

/** The refusals of the MCP endpoints, each with its stable code, HTTP status and JSON-RPC code. */
export const McpErrors = {
  unknownServer: (name: string) =>
    new GatehouseError('unknown_server', 404, `No MCP server named ${JSON.stringify(name)}`, { rpcCode: JsonRpcCode.invalidRequest }),
  originNotAllowed: (origin: string) =>
    new GatehouseError('origin_not_allowed', 403, `Origin ${JSON.stringify(origin)} is not allowed`, {
      rpcCode: JsonRpcCode.invalidRequest,
    }),
  unauthorized: (headers: Headers) =>
    new GatehouseError('unauthorized', 401, 'Unauthorized: missing or invalid credentials', {
      rpcCode: JsonRpcCode.invalidRequest,
      headers,
    }),
  authUnavailable: () =>
    new GatehouseError('auth_unavailable', 503, 'the authorization service is not reachable; retry shortly', {
      headers: { 'retry-after': '5' },
    }),
  sessionRequired: () =>
    new GatehouseError('session_required', 400, 'Bad Request: Mcp-Session-Id header is required', { rpcCode: JsonRpcCode.invalidRequest }),
  sessionNotFound: () => new GatehouseError('session_not_found', 404, 'Session not found'),
  alreadyInitialized: () =>
    new GatehouseError('already_initialized', 400, 'Invalid Request: this session is already initialized', {
      rpcCode: JsonRpcCode.invalidRequest,
    }),
  notAcceptable: (what: string) =>
    new GatehouseError('not_acceptable', 406, `Not Acceptable: the client must accept ${what}`, { rpcCode: JsonRpcCode.invalidRequest }),
  unsupportedMediaType: () =>
    new GatehouseError('unsupported_media_type', 415, 'Content-Type must be application/json', { rpcCode: JsonRpcCode.invalidRequest }),
  parseError: (why: string) => new GatehouseError('parse_error', 400, `Parse error: ${why}`, { rpcCode: JsonRpcCode.parseError }),
  invalidRequest: (why: string) =>
    new GatehouseError('invalid_request', 400, `Invalid Request: ${why}`, { rpcCode: JsonRpcCode.invalidRequest }),
  invalidParams: (why: string, rpcId: RequestId | null) =>
    new GatehouseError('invalid_params', 400, `Invalid params: ${why}`, { rpcCode: JsonRpcCode.invalidParams, rpcId }),
  badRequest: (why: string) => new GatehouseError('bad_request', 400, `Bad Request: ${why}`, { rpcCode: JsonRpcCode.invalidRequest }),
  /** The header names a version we do not speak; the modern code and data, so a 2026 client probing can tell. */
  unsupportedVersion: (version: string, supported: readonly string[]) =>
    new GatehouseError(
      'unsupported_protocol_version',
      400,
      `Unsupported MCP-Protocol-Version ${JSON.stringify(version)}; supported: ${supported.join(', ')}`,
      { rpcCode: JsonRpcCode.unsupportedProtocolVersion, rpcData: { supported: [...supported], requested: version } },
    ),
  unsupportedProtocolVersion: (requested: string, supported: readonly string[], rpcId: RequestId | null) =>
    new GatehouseError(
      'unsupported_protocol_version',
      400,
      `Unsupported protocol version ${JSON.stringify(requested)}; supported: ${supported.join(', ')}`,
      { rpcCode: JsonRpcCode.unsupportedProtocolVersion, rpcId, rpcData: { supported: [...supported], requested } },
    ),
  /** A request-metadata header missing, malformed, or not what the body says (2026-07-28 on). */
  headerMismatch: (why: string, rpcId: RequestId | null) =>
    new GatehouseError('header_mismatch', 400, `Header mismatch: ${why}`, { rpcCode: JsonRpcCode.headerMismatch, rpcId }),
  /** The request needs client capabilities its `_meta` did not declare; `required` lists them. */
  missingClientCapability: (required: Readonly<Record<string, unknown>>, rpcId: RequestId | null) =>
    new GatehouseError('missing_client_capability', 400, `Missing required client capability: ${Object.keys(required).join(', ')}`, {
      rpcCode: JsonRpcCode.missingRequiredClientCapability,
      rpcId,
      rpcData: { requiredCapabilities: required },
    }),
  tooLarge: (message: string) => new GatehouseError('too_large', 413, message, { rpcCode: JsonRpcCode.invalidRequest }),
  sessionLimit: (message: string) => new GatehouseError('session_limit', 429, message),
  backendFailed: (message: string) => new GatehouseError('backend_failed', 502, message),
  unavailable: (message: string) => new GatehouseError('unavailable', 503, message, { headers: { 'retry-after': '1' } }),
  /** A failure of our own: logged, never described to the client. */
  internal: (cause: unknown) => new GatehouseError('internal', 502, 'internal failure', { expose: false, cause }),
};
