import { JsonRpcCode, type JsonRpcMessage, type RequestId, isJsonObject, MCP_META, metaOf, STATELESS_PROTOCOL_VERSION } from '#contracts';
import { LIST_METHODS } from './stateless-messages.js';

const GATEWAY_CLIENT = { name: 'gatehouse', version: '0.1.0' };
/** The 2025 revision a pooled session is opened with (the backend may agree on an older one). */
const BRIDGED_VERSION = '2025-11-25';
/** 2025-11-25's "resource not found", which 2026-07-28 answers as invalid params. */
const RESOURCE_NOT_FOUND_2025 = -32002;

/** The probe that tells a backend speaking 2026-07-28 (it answers) from one that needs initialize. */
export function discoverRequest(): JsonRpcMessage & { id: RequestId } {
  const _meta = {
    [MCP_META.protocolVersion]: STATELESS_PROTOCOL_VERSION,
    [MCP_META.clientInfo]: GATEWAY_CLIENT,
    [MCP_META.clientCapabilities]: {},
  };
  return { jsonrpc: '2.0', id: 'gatehouse-discover', method: 'server/discover', params: { _meta } };
}

export function speaksStateless(response: JsonRpcMessage): boolean {
  const result = response.result;
  return isJsonObject(result) && Array.isArray(result.supportedVersions) && result.supportedVersions.includes(STATELESS_PROTOCOL_VERSION);
}

/** The initialize that opens a bridged session with the pool's capabilities, as the client whose request came first. */
export function initializeRequest(
  capabilities: Record<string, unknown>,
  first: JsonRpcMessage | undefined,
): JsonRpcMessage & { id: RequestId } {
  const clientInfo = first && metaOf(first)[MCP_META.clientInfo];
  const params = {
    protocolVersion: BRIDGED_VERSION,
    capabilities,
    clientInfo: isJsonObject(clientInfo) && typeof clientInfo.name === 'string' ? clientInfo : GATEWAY_CLIENT,
  };
  return { jsonrpc: '2.0', id: 'gatehouse-initialize', method: 'initialize', params };
}

/** server/discover of a bridged pool, from the backend's answer to initialize. */
export function discoverResult(id: RequestId, initialized: JsonRpcMessage, ttlMs: number): JsonRpcMessage {
  const init = isJsonObject(initialized.result) ? initialized.result : {};
  const result = {
    resultType: 'complete',
    // The edge answers with every version the endpoint speaks.
    supportedVersions: [STATELESS_PROTOCOL_VERSION],
    capabilities: isJsonObject(init.capabilities) ? init.capabilities : {},
    ...(typeof init.instructions === 'string' && { instructions: init.instructions }),
    ttlMs,
    cacheScope: 'private',
    _meta: serverInfoMeta(init),
  };
  return { jsonrpc: '2.0', id, result };
}

/** A 2025 backend's answer as a 2026-07-28 client reads it: resultType, the server's identity, cache hints. */
export function bridgedResult(
  method: string,
  response: JsonRpcMessage,
  initialized: JsonRpcMessage | undefined,
  ttlMs: number,
): JsonRpcMessage {
  const { error } = response;
  if (isJsonObject(error)) {
    return method === 'resources/read' && error.code === RESOURCE_NOT_FOUND_2025
      ? { ...response, error: { ...error, code: JsonRpcCode.invalidParams } }
      : response;
  }
  if (!isJsonObject(response.result)) return response;
  const init = initialized && isJsonObject(initialized.result) ? initialized.result : {};
  const meta = isJsonObject(response.result._meta) ? response.result._meta : {};
  const result: Record<string, unknown> = { resultType: 'complete', ...response.result, _meta: { ...serverInfoMeta(init), ...meta } };
  // Lists are cached here for ttlMs; a read is not, so the client is told it is stale at once.
  if (LIST_METHODS.has(method) || method === 'resources/read') {
    result.ttlMs ??= LIST_METHODS.has(method) ? ttlMs : 0;
    result.cacheScope ??= 'private';
  }
  return { ...response, result };
}

function serverInfoMeta(init: Record<string, unknown>): Record<string, unknown> {
  return isJsonObject(init.serverInfo) ? { [MCP_META.serverInfo]: init.serverInfo } : {};
}
