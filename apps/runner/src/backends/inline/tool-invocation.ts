import { ARGUMENT_PLACEHOLDER, type InlineToolConfig } from '#config';

/** What one call runs: the tool's argv and its own env, placeholders replaced. */
export interface ToolInvocation {
  args: string[];
  env: Record<string, string>;
}

/**
 * Replaces each `{{name}}` in the tool's args elements and env values by the argument `name`: a
 * string verbatim, anything else as JSON, an absent argument as "". One pass, inside one element:
 * a value is never split, joined or searched for placeholders itself. Values a person's token was
 * filled into (`tool.opaque`) are passed as they are. Arguments must be valid already.
 */
export function renderInvocation(tool: InlineToolConfig, args: Readonly<Record<string, unknown>>): ToolInvocation | { refused: string } {
  const unusable = new Set<string>();
  const render = (template: string) =>
    template.replace(ARGUMENT_PLACEHOLDER, (_placeholder, name: string) => {
      const value = argumentText(Object.hasOwn(args, name) ? args[name] : undefined);
      // The kernel takes argv and environ as C strings: a NUL would silently cut the value.
      if (value.includes('\0')) unusable.add(name);
      return value;
    });
  const opaque = tool.opaque ?? { args: [], env: [] };
  const rendered = {
    args: tool.args.map((arg, i) => (opaque.args.includes(i) ? arg : render(arg))),
    env: Object.fromEntries(Object.entries(tool.env).map(([key, value]) => [key, opaque.env.includes(key) ? value : render(value)])),
  };
  if (unusable.size > 0) {
    const names = [...unusable].map((name) => JSON.stringify(name)).join(', ');
    return { refused: `Invalid arguments for tool ${tool.name}: ${names} contains a NUL character, which no program can be given` };
  }
  return rendered;
}

function argumentText(value: unknown): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
