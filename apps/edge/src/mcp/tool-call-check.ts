import { isJsonObject, type JsonRpcMessage } from '#contracts';

const PARAMS = new Set(['name', 'arguments', '_meta']);

/**
 * Whether a `tools/call` has the shape clients send, checked without the MCP SDK's schema: a
 * `name`, `arguments` as an object, and at most a progress token in `_meta`. Every call this
 * accepts, the schema accepts too (a property test holds it to that). False is no verdict: the
 * schema decides then, and gives the error. The schema cost a lone call about 40 µs on the edge's
 * path, its largest step of Gatehouse's own (bench/notes.md, the ninth round).
 */
export function isPlainToolCall(message: JsonRpcMessage): boolean {
  const params = message.params;
  if (!isJsonObject(params) || typeof params['name'] !== 'string') return false;
  for (const key of Object.keys(params)) if (!PARAMS.has(key)) return false;
  const args = params['arguments'];
  if (args !== undefined && !isJsonObject(args)) return false;
  const meta = params['_meta'];
  if (meta === undefined) return true;
  if (!isJsonObject(meta)) return false;
  for (const key of Object.keys(meta)) if (key !== 'progressToken') return false;
  const token = meta['progressToken'];
  return token === undefined || typeof token === 'string' || Number.isSafeInteger(token);
}
