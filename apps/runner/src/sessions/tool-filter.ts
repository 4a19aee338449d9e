import type { JsonRpcMessage } from '#contracts';

export interface ToolFilterConfig {
  mode: 'allow' | 'block';
  list: readonly string[];
}

/** Applies a server's `options.toolFilter`: hidden from tools/list and refused on tools/call. */
export class ToolFilter {
  private readonly names: ReadonlySet<string>;

  constructor(private readonly config: ToolFilterConfig | undefined) {
    this.names = new Set(config?.list ?? []);
  }

  allows(toolName: unknown): boolean {
    if (!this.config) return true;
    const listed = typeof toolName === 'string' && this.names.has(toolName);
    return this.config.mode === 'allow' ? listed : !listed;
  }

  /** A tools/list response with the hidden tools removed. */
  filterListResponse(response: JsonRpcMessage): JsonRpcMessage {
    const result = response.result;
    if (!this.config || !isRecord(result) || !Array.isArray(result.tools)) return response;
    const tools: unknown[] = result.tools;
    return { ...response, result: { ...result, tools: tools.filter((t) => isRecord(t) && this.allows(t.name)) } };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
