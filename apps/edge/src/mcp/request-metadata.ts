import type { IncomingHttpHeaders } from 'node:http';
import {
  ImplementationSchema,
  LoggingLevelSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  type Implementation,
  type LoggingLevel,
} from '@modelcontextprotocol/sdk/types.js';
import {
  isJsonObject as isObject,
  isRequest,
  MCP_META,
  metaOf,
  STATELESS_PROTOCOL_VERSION,
  type JsonRpcMessage,
  type RequestId,
} from '#contracts';
import { header } from './http-io.js';
import { McpErrors } from './mcp-errors.js';
import type { ParsedBody } from './messages.js';

/** The first revision without initialize or sessions: each request carries its version, identity and capabilities. */
export { STATELESS_PROTOCOL_VERSION };
export const STATELESS_VERSIONS: readonly string[] = [STATELESS_PROTOCOL_VERSION];
/** Every version the gateway speaks, stateless and session-based: what an UnsupportedProtocolVersion error lists. */
export const GATEWAY_PROTOCOL_VERSIONS: readonly string[] = [...STATELESS_VERSIONS, ...SUPPORTED_PROTOCOL_VERSIONS];

const META = MCP_META;

/** The request-metadata headers, as the spec spells them in messages. */
const VERSION_HEADER = 'MCP-Protocol-Version';
const METHOD_HEADER = 'Mcp-Method';
const NAME_HEADER = 'Mcp-Name';

/** The body field each method's Mcp-Name header mirrors. */
const NAME_SOURCES: ReadonlyMap<string, 'name' | 'uri'> = new Map([
  ['tools/call', 'name'],
  ['prompts/get', 'name'],
  ['resources/read', 'uri'],
]);

const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';

/** What a stateless request declares about itself, once its headers and `_meta` agree. */
export interface StatelessRequest {
  protocolVersion: string;
  method: string;
  /** params.name or params.uri, for the methods whose Mcp-Name mirrors one. */
  name?: string;
  clientInfo?: Implementation;
  /** Empty for a notification that declares none. */
  clientCapabilities: Record<string, unknown>;
  logLevel?: LoggingLevel;
}

/**
 * Whether a POST speaks a stateless revision: its MCP-Protocol-Version header names one, or it has
 * no Mcp-Session-Id and its single message claims a protocol version in `_meta`. The body decides
 * over a header naming another version, so checkStatelessRequest can refuse the disagreement.
 * `body` is called only when the headers cannot tell; what it throws (parseBody's refusals) passes through.
 */
export function isStatelessRequest(headers: IncomingHttpHeaders, body: () => ParsedBody): boolean {
  const version = header(headers, 'mcp-protocol-version');
  if (version !== undefined && STATELESS_VERSIONS.includes(version)) return true;
  if (header(headers, 'mcp-session-id') !== undefined) return false;
  const { messages, batch } = body();
  const message = messages[0];
  return !batch && message !== undefined && typeof metaOf(message)[META.protocolVersion] === 'string';
}

/**
 * Checks a stateless request's headers against its body and `_meta`, in the spec's order: the
 * version is one we speak (-32022), the headers are present, well-formed and mirror the body
 * (-32020), the required `_meta` fields are there (-32602). A notification must send nothing,
 * but what it sends must agree. Every refusal echoes the request's id.
 */
export function checkStatelessRequest(headers: IncomingHttpHeaders, message: JsonRpcMessage): StatelessRequest {
  const request = isRequest(message);
  const rpcId = request ? message.id : null;
  const method = message.method;
  if (typeof method !== 'string') throw McpErrors.invalidRequest('the body must be a JSON-RPC request or notification');
  const meta = metaOf(message);
  const protocolVersion = checkedVersion(headers, meta, request, rpcId);
  const methodHeader = fieldValue(headers, METHOD_HEADER, rpcId);
  if (methodHeader === undefined && request) throw McpErrors.headerMismatch(`the ${METHOD_HEADER} header is required`, rpcId);
  if (methodHeader !== undefined && methodHeader !== method) throw mismatch(METHOD_HEADER, methodHeader, method, rpcId);
  const name = request ? checkedName(headers, message, rpcId) : undefined;
  return { protocolVersion, method, ...(name !== undefined && { name }), ...declared(meta, request, rpcId) };
}

/**
 * A header value with the Base64 sentinel (`=?base64?…?=`, markers case-sensitive) decoded as
 * UTF-8, any other value as it is; undefined when malformed: characters outside visible ASCII,
 * space and tab, or a sentinel whose payload is not canonical Base64 of UTF-8.
 */
export function decodeHeaderValue(value: string): string | undefined {
  if (!isFieldValue(value)) return undefined;
  const sentinel =
    value.length >= SENTINEL_PREFIX.length + SENTINEL_SUFFIX.length && value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX);
  if (!sentinel) return value;
  const payload = value.slice(SENTINEL_PREFIX.length, -SENTINEL_SUFFIX.length);
  const bytes = Buffer.from(payload, 'base64');
  // Node skips what is not Base64; encoding back tells a canonical payload from a lenient read.
  if (bytes.toString('base64') !== payload) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** The protocol version the request speaks: the header's, else `_meta`'s; both must agree. */
function checkedVersion(headers: IncomingHttpHeaders, meta: Record<string, unknown>, request: boolean, rpcId: RequestId | null): string {
  const headerVersion = fieldValue(headers, VERSION_HEADER, rpcId);
  const claimed = meta[META.protocolVersion];
  const bodyVersion = typeof claimed === 'string' ? claimed : undefined;
  const requested = headerVersion ?? bodyVersion;
  if (requested === undefined) throw McpErrors.headerMismatch(`the ${VERSION_HEADER} header is required`, rpcId);
  if (!STATELESS_VERSIONS.includes(requested)) {
    // A session-era version in the header over a stateless body is a disagreement, not a probe.
    const legacyHeader = headerVersion !== undefined && SUPPORTED_PROTOCOL_VERSIONS.includes(headerVersion);
    if (legacyHeader && bodyVersion !== headerVersion) throw mismatch(VERSION_HEADER, headerVersion, bodyVersion, rpcId);
    throw McpErrors.unsupportedProtocolVersion(requested, GATEWAY_PROTOCOL_VERSIONS, rpcId);
  }
  if (bodyVersion === undefined && (request || claimed !== undefined)) throw missingMeta(META.protocolVersion, 'a string', rpcId);
  if (headerVersion === undefined && request) throw McpErrors.headerMismatch(`the ${VERSION_HEADER} header is required`, rpcId);
  if (headerVersion !== undefined && bodyVersion !== undefined && headerVersion !== bodyVersion) {
    throw mismatch(VERSION_HEADER, headerVersion, bodyVersion, rpcId);
  }
  return requested;
}

/** The decoded Mcp-Name, for the methods that mirror params.name or params.uri in it. */
function checkedName(headers: IncomingHttpHeaders, message: JsonRpcMessage & { method: string }, rpcId: RequestId | null) {
  const field = NAME_SOURCES.get(message.method);
  if (field === undefined) return undefined;
  const bodyValue = isObject(message.params) ? message.params[field] : undefined;
  if (typeof bodyValue !== 'string') throw McpErrors.invalidParams(`${message.method}: params.${field} must be a string`, rpcId);
  const raw = header(headers, NAME_HEADER.toLowerCase());
  if (raw === undefined) throw McpErrors.headerMismatch(`the ${NAME_HEADER} header is required for ${message.method}`, rpcId);
  const decoded = decodeHeaderValue(raw);
  if (decoded === undefined) throw malformed(NAME_HEADER, rpcId);
  if (decoded !== bodyValue) throw mismatch(NAME_HEADER, decoded, bodyValue, rpcId);
  return decoded;
}

/** The client's declarations in `_meta`: capabilities (required of a request), identity and log level. */
function declared(meta: Record<string, unknown>, request: boolean, rpcId: RequestId | null) {
  const capabilities = meta[META.clientCapabilities];
  if (!isObject(capabilities) && (request || capabilities !== undefined)) throw missingMeta(META.clientCapabilities, 'an object', rpcId);
  const clientInfo = optional(meta[META.clientInfo], (v) => ImplementationSchema.safeParse(v));
  if (clientInfo === null) throw invalidMeta(META.clientInfo, 'an Implementation with a name and a version', rpcId);
  const logLevel = optional(meta[META.logLevel], (v) => LoggingLevelSchema.safeParse(v));
  if (logLevel === null) throw invalidMeta(META.logLevel, `one of ${LoggingLevelSchema.options.join(', ')}`, rpcId);
  return {
    clientCapabilities: isObject(capabilities) ? capabilities : {},
    ...(clientInfo !== undefined && { clientInfo }),
    ...(logLevel !== undefined && { logLevel }),
  };
}

/** An optional field parsed: undefined when absent, null when present but not what `parse` accepts. */
function optional<T>(value: unknown, parse: (value: unknown) => { success: true; data: T } | { success: false }): T | undefined | null {
  if (value === undefined) return undefined;
  const parsed = parse(value);
  return parsed.success ? parsed.data : null;
}

/** A request-metadata header's value; -32020 when it holds characters a header value may not. */
function fieldValue(headers: IncomingHttpHeaders, name: string, rpcId: RequestId | null): string | undefined {
  const value = header(headers, name.toLowerCase());
  if (value !== undefined && !isFieldValue(value)) throw malformed(name, rpcId);
  return value;
}

/** Visible ASCII, space and tab: RFC 9110's field-value characters without obs-text. */
function isFieldValue(value: string): boolean {
  return /^[\t\x20-\x7e]*$/.test(value);
}

function mismatch(name: string, headerValue: string, bodyValue: string | undefined, rpcId: RequestId | null) {
  const body = bodyValue === undefined ? 'has no counterpart in the body' : `does not match body value '${bodyValue}'`;
  return McpErrors.headerMismatch(`${name} header value '${headerValue}' ${body}`, rpcId);
}

function malformed(name: string, rpcId: RequestId | null) {
  return McpErrors.headerMismatch(`${name} header value is malformed`, rpcId);
}

function missingMeta(key: string, what: string, rpcId: RequestId | null) {
  return McpErrors.invalidParams(`_meta["${key}"] is required and must be ${what}`, rpcId);
}

function invalidMeta(key: string, what: string, rpcId: RequestId | null) {
  return McpErrors.invalidParams(`_meta["${key}"] must be ${what}`, rpcId);
}
