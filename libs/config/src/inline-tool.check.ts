import { childPath } from './config-problem.js';
import type { InlineToolConfig, ServerFindings } from './server-config.js';
import { ARGUMENT_PLACEHOLDER, compileToolInputSchema } from './tool-input-schema.js';

/** What a call needs to run: a command, usable variable names, a schema that compiles; a placeholder naming no property is probably a typo. */
export function checkInlineTool(tool: InlineToolConfig, at: string, found: ServerFindings): void {
  if (tool.command === '') found.problems.push({ path: `${at}.command`, message: 'expected a command' });
  for (const key of Object.keys(tool.env)) {
    if (key === '' || /[=\0]/.test(key))
      found.problems.push({ path: childPath(`${at}.env`, key), message: 'expected a variable name without "=" or NUL' });
  }
  const compiled = compileToolInputSchema(tool.inputSchema);
  for (const warning of compiled.warnings) found.warnings.push(`${at}.inputSchema: ${warning}`);
  if (!compiled.ok) found.problems.push({ path: `${at}.inputSchema`, message: compiled.message });
  const properties = tool.inputSchema.properties;
  if (typeof properties !== 'object' || properties === null) return;
  const templated = tool.args.map((arg, j) => ({ text: arg, where: `${at}.args[${j}]` }));
  for (const [key, value] of Object.entries(tool.env)) templated.push({ text: value, where: childPath(`${at}.env`, key) });
  for (const { text, where } of templated) {
    for (const [, name = ''] of text.matchAll(ARGUMENT_PLACEHOLDER)) {
      if (!Object.hasOwn(properties, name)) {
        found.warnings.push(`${where}: {{${name}}} names no property of inputSchema, so it is always replaced by ""`);
      }
    }
  }
}
