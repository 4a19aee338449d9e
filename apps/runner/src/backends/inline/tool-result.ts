import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { InlineToolConfig } from '#config';
import type { ToolRun } from './tool-process.js';

/** A tool execution error: the model reads the text and may correct its call (MCP 2025-11-25, SEP-1303). */
export function toolError(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

/**
 * stdout verbatim as the first text item, then one note when something needs saying: output cut,
 * a timeout, a non-zero exit or a signal (with stderr's tail). Only a clean exit 0 is a success.
 */
export function toolRunResult(tool: InlineToolConfig, run: ToolRun): CallToolResult {
  if (!run.started) return toolError(`The command of tool ${tool.name} could not be started (${run.error}).`);
  const notes: string[] = [];
  if (run.cutBytes > 0) {
    notes.push(`[Output cut: only the first ${tool.maxOutputBytes} bytes are shown; ${run.cutBytes} more bytes were left out.]`);
  }
  const failure = failureOf(tool, run);
  if (failure) notes.push(failure);
  const content: CallToolResult['content'] = [{ type: 'text', text: run.stdout }];
  if (notes.length > 0) content.push({ type: 'text', text: notes.join('\n') });
  return failure ? { content, isError: true } : { content };
}

function failureOf(tool: InlineToolConfig, run: ToolRun & { started: true }): string | undefined {
  const { end } = run;
  if (end.by === 'timeout') {
    return `[Timed out after ${duration(tool.timeoutMs)}: the command and every process it started were killed.]${stderrPart(run)}`;
  }
  if (end.by === 'cancel') return '[Cancelled: the command and every process it started were killed.]';
  if (end.exit.code === 0) return undefined;
  const how = end.exit.signal ? `was killed by ${end.exit.signal}` : `exited with code ${end.exit.code}`;
  return `[The command ${how}.]${stderrPart(run)}`;
}

function stderrPart(run: { stderrTail: string }): string {
  return run.stderrTail === '' ? ' It wrote nothing to stderr.' : `\nstderr (the end of it):\n${run.stderrTail}`;
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${ms / 1000} s`;
}
