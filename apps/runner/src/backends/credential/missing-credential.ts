import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { errorResponse, JsonRpcCode, type JsonRpcMessage, type RequestId } from '#contracts';
import { randomId } from '#crypto';

/** MCP 2025-11-25: the request needs the person to visit a URL first (URLElicitationRequiredError). */
export const URL_ELICITATION_REQUIRED = -32042;

/** Why a session's backend cannot have its credential, as auth or the service caller's config said. */
export interface Missing {
  /** Absent for a service caller: it has no page to go to. */
  connectUrl?: string;
  message: string;
}

type Request = JsonRpcMessage & { id: RequestId; method: string };

/** Whether the client said at initialize that it can open a URL for the person (`capabilities.elicitation.url`). */
export function acceptsUrlElicitation(initializeParams: Record<string, unknown>): boolean {
  const capabilities = record(initializeParams.capabilities);
  return typeof record(capabilities.elicitation).url === 'object';
}

/** The gate's own answer to initialize: tools only (they appear once connected), and what to connect where. */
export function gatedInitializeResult(server: string, params: Record<string, unknown>, missing: Missing): Record<string, unknown> {
  const asked = typeof params.protocolVersion === 'string' ? params.protocolVersion : LATEST_PROTOCOL_VERSION;
  return {
    protocolVersion: SUPPORTED_PROTOCOL_VERSIONS.includes(asked) ? asked : LATEST_PROTOCOL_VERSION,
    capabilities: { tools: { listChanged: true } },
    serverInfo: { name: server, version: '1.0.0' },
    instructions: `${server} needs your own credential before it can be used. ${describe(missing)}`,
  };
}

/**
 * The answer to a request while the credential is missing: URL elicitation for a client that
 * declared it, a tool error for a call, a JSON-RPC error otherwise; each carries the link.
 */
export function missingCredentialAnswer(request: Request, missing: Missing, urlElicitation: boolean): JsonRpcMessage {
  if (urlElicitation && missing.connectUrl !== undefined) {
    const elicitation = { mode: 'url', elicitationId: randomId(), url: missing.connectUrl, message: missing.message };
    return {
      jsonrpc: '2.0',
      id: request.id,
      error: { code: URL_ELICITATION_REQUIRED, message: missing.message, data: { elicitations: [elicitation] } },
    };
  }
  if (request.method === 'tools/call') {
    return { jsonrpc: '2.0', id: request.id, result: { content: [{ type: 'text', text: describe(missing) }], isError: true } };
  }
  const error = errorResponse(request.id, JsonRpcCode.serverError, describe(missing));
  // The link as data too, so an aggregate can tell this error from a member's failure and pass it on.
  return missing.connectUrl === undefined
    ? error
    : { ...error, error: { ...record(error.error), data: { connectUrl: missing.connectUrl } } };
}

/** Whether a JSON-RPC error says a person's credential is needed (as the gate answers): passed on unchanged, never hidden. */
export function isCredentialRequired(error: unknown): boolean {
  const { code, data } = record(error);
  return code === URL_ELICITATION_REQUIRED || (code === JsonRpcCode.serverError && typeof record(data).connectUrl === 'string');
}

/** Auth's message, with the link once and what to do after. */
function describe(missing: Missing): string {
  if (missing.connectUrl === undefined) return missing.message;
  if (missing.message.includes(missing.connectUrl)) return `${missing.message}, then try again.`;
  return `${missing.message} Connect it at ${missing.connectUrl}, then try again.`;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : {};
}
