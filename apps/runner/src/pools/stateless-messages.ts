import { isJsonObject, MCP_META, metaOf, paramsOf, type JsonRpcMessage } from '#contracts';

/** Methods whose results may carry input_required, and whose requests name their target. */
export const INPUT_CAPABLE_METHODS = new Set(['tools/call', 'prompts/get', 'resources/read']);
/** List results the revision gives caching hints, and that the gateway caches per identity. */
export const LIST_METHODS = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list']);

type Params = Record<string, unknown>;

/** The tool or prompt name, or the resource URI, a request targets. */
export function requestName(message: JsonRpcMessage): string | undefined {
  const params = paramsOf(message);
  const name = message.method === 'resources/read' ? params.uri : params.name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * The client capabilities that change what a 2025 backend may ask of its client — sampling,
 * elicitation (and its modes), roots — reduced to what they name, so a client's declaration
 * cannot grow a pool's key: a pooled session is opened with exactly these.
 */
export function bridgedCapabilities(message: JsonRpcMessage): Params {
  const declared = metaOf(message)[MCP_META.clientCapabilities];
  if (!isJsonObject(declared)) return {};
  const kept: Params = {};
  const { sampling, elicitation, roots } = declared;
  if (isJsonObject(sampling)) kept.sampling = named(sampling, ['tools', 'context']);
  if (isJsonObject(elicitation)) kept.elicitation = named(elicitation, ['form', 'url']);
  if (isJsonObject(roots)) kept.roots = {};
  return kept;
}

/** The sub-capabilities of `declared` among `names`, each as an empty object. */
function named(declared: Params, names: readonly string[]): Params {
  return Object.fromEntries(names.filter((n) => isJsonObject(declared[n])).map((n) => [n, {}]));
}
