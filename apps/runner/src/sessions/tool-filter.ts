import type { JsonRpcMessage } from '#contracts';

export interface ToolFilterConfig {
  mode: 'allow' | 'block';
  list: readonly string[];
}

/** One `options.toolAccess` rule: the tools its patterns match are only for callers in one of `groups`. */
export interface ToolAccessRule {
  /** Tool names; `*` stands for any run of characters (`delete_*`). */
  tools: readonly string[];
  groups: readonly string[];
}

/** A compiled rule: whether it covers a tool, and whether the caller's groups satisfy it. */
interface CompiledRule {
  readonly patterns: readonly RegExp[];
  readonly groups: ReadonlySet<string>;
}

/**
 * Applies a server's `options.toolFilter` and `options.toolAccess` for one caller: a tool is hidden
 * from tools/list and refused on tools/call unless the filter lets it through and the caller is in a
 * group of every access rule that matches it.
 */
export class ToolFilter {
  private readonly names: ReadonlySet<string>;
  private readonly rules: readonly CompiledRule[];

  constructor(
    private readonly config: ToolFilterConfig | undefined,
    private readonly access: readonly ToolAccessRule[] = [],
    private readonly callerGroups: ReadonlySet<string> = new Set(),
  ) {
    this.names = new Set(config?.list ?? []);
    this.rules = access.map((rule) => ({ patterns: rule.tools.map(globPattern), groups: new Set(rule.groups) }));
  }

  /** This server's filter for a caller in `groups` (none for bearer, basic and anonymous callers). */
  forCaller(groups: readonly string[] | undefined): ToolFilter {
    return new ToolFilter(this.config, this.access, new Set(groups ?? []));
  }

  allows(toolName: unknown): boolean {
    return this.passesFilter(toolName) && this.passesAccess(toolName);
  }

  /** A tools/list response with the hidden tools removed. */
  filterListResponse(response: JsonRpcMessage): JsonRpcMessage {
    const result = response.result;
    if ((!this.config && this.rules.length === 0) || !isRecord(result) || !Array.isArray(result.tools)) return response;
    const tools: unknown[] = result.tools;
    return { ...response, result: { ...result, tools: tools.filter((t) => isRecord(t) && this.allows(t.name)) } };
  }

  private passesFilter(toolName: unknown): boolean {
    if (!this.config) return true;
    const listed = typeof toolName === 'string' && this.names.has(toolName);
    return this.config.mode === 'allow' ? listed : !listed;
  }

  private passesAccess(toolName: unknown): boolean {
    if (this.rules.length === 0) return true;
    // A tool without a string name cannot be matched, so it cannot be proven unrestricted.
    if (typeof toolName !== 'string') return false;
    return this.rules
      .filter((rule) => rule.patterns.some((pattern) => pattern.test(toolName)))
      .every((rule) => [...rule.groups].some((group) => this.callerGroups.has(group)));
  }
}

/** `*` matches any run of characters; everything else matches itself. */
function globPattern(glob: string): RegExp {
  const literal = glob.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${literal.join('.*')}$`, 's');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
