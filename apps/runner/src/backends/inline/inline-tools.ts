import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { compileToolInputSchema, type InlineServerConfig, type InlineToolConfig, type ToolArgumentsCheck } from '#config';

/** One tool of an inline server: its config, its argument check, and how tools/list shows it. */
export interface InlineTool {
  readonly config: InlineToolConfig;
  /** Says what is wrong with the arguments, or undefined; fills in the schema's defaults. */
  readonly check: ToolArgumentsCheck;
  readonly listed: Tool;
}

/** Compiled once per server config, not per session. */
const compiled = new WeakMap<InlineServerConfig, ReadonlyMap<string, InlineTool>>();

/** The tools of an inline server by name, their schemas compiled. */
export function inlineToolsOf(server: InlineServerConfig): ReadonlyMap<string, InlineTool> {
  let tools = compiled.get(server);
  if (!tools) {
    tools = new Map(server.tools.map((tool) => [tool.name, compileTool(tool)]));
    compiled.set(server, tools);
  }
  return tools;
}

function compileTool(config: InlineToolConfig): InlineTool {
  const schema = compileToolInputSchema(config.inputSchema);
  // Loading the config refused a schema that does not compile; this only keeps the types honest.
  const check: ToolArgumentsCheck = schema.ok ? schema.check : () => `the inputSchema of tool ${config.name} does not compile`;
  const listed: Tool = {
    name: config.name,
    ...(config.description !== undefined && { description: config.description }),
    inputSchema: { ...config.inputSchema, type: 'object' },
  };
  return { config, check, listed };
}
