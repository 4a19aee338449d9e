import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import {
  CallToolRequestSchema,
  ErrorCode,
  JSONRPCMessageSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import { errorResponse, isRequest, JsonRpcCode, type JsonRpcMessage } from '#contracts';
import type { InlineServerConfig } from '#config';
import type { Logger } from '#observability';
import type { ProcessSpawner } from '../../process/child-process.js';
import { GUARD_END_REASON, type BackendConnection, type BackendLogContext } from '../backend.port.js';
import { inlineToolsOf, type InlineTool } from './inline-tools.js';
import { renderInvocation, type ToolInvocation } from './tool-invocation.js';
import { runToolProcess, type ToolRun } from './tool-process.js';
import { toolError, toolRunResult } from './tool-result.js';

export interface InlineDeps {
  spawner: ProcessSpawner;
  /** The allowlisted part of the gateway's environment; each tool's `env` is added to it. */
  childBaseEnv: Record<string, string>;
  log: Logger;
}

/** Calls one session may have running at once; more are refused with a tool error. */
export const MAX_RUNNING_CALLS = 16;

/** Only elicitation results would use it, and an inline server asks for none: one for every session. */
let sharedValidator: AjvJsonSchemaValidator | undefined;

/**
 * An inline server: an MCP server of its own (the SDK's, so initialize, ping, -32601 and
 * cancellation behave as the spec says) whose tools run commands. It lives in the runner, one per
 * session, and reaches it through an in-memory transport pair.
 */
export class InlineBackend implements BackendConnection {
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  private readonly server: Server;
  private readonly tools: ReadonlyMap<string, InlineTool>;
  private readonly gatewaySide: InMemoryTransport;
  private readonly serverSide: InMemoryTransport;
  /** Each running call's own stop, and its end. */
  private readonly running = new Map<AbortController, Promise<ToolRun>>();
  private closing = false;
  private closeAnnounced = false;

  constructor(
    config: InlineServerConfig,
    private readonly deps: InlineDeps,
    private readonly context: BackendLogContext,
  ) {
    this.tools = inlineToolsOf(config);
    sharedValidator ??= new AjvJsonSchemaValidator();
    this.server = new Server(
      { name: config.name, version: '1.0.0' },
      { capabilities: { tools: {} }, instructions: config.description, jsonSchemaValidator: sharedValidator },
    );
    this.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [...this.tools.values()].map((tool) => tool.listed) }));
    this.server.setRequestHandler(CallToolRequestSchema, ({ params }, extra) => this.call(params.name, params.arguments, extra.signal));
    this.server.onerror = (err) => deps.log.warn({ ...context, err }, 'inline server protocol error');
    [this.gatewaySide, this.serverSide] = InMemoryTransport.createLinkedPair();
  }

  async start(): Promise<void> {
    this.gatewaySide.onmessage = (message) => this.deliver(message);
    await this.server.connect(this.serverSide);
    await this.gatewaySide.start();
  }

  send(message: JsonRpcMessage): void {
    const parsed = JSONRPCMessageSchema.safeParse(message);
    if (!parsed.success) {
      // The edge checked every message already; answer anything odd rather than leave it hanging.
      if (isRequest(message)) this.deliver(errorResponse(message.id, JsonRpcCode.invalidRequest, 'Invalid Request'));
      return;
    }
    this.gatewaySide.send(parsed.data).catch((err: unknown) => this.deps.log.warn({ ...this.context, err }, 'inline server is closed'));
  }

  /** Ends the server and every call still running; resolves once their process groups are gone. */
  async close(): Promise<void> {
    this.closing = true;
    for (const stop of this.running.keys()) stop.abort();
    await this.server.close();
    await Promise.allSettled(this.running.values());
  }

  private async call(name: string, args: Record<string, unknown> | undefined, signal: AbortSignal): Promise<CallToolResult> {
    const tool = this.tools.get(name);
    if (!tool) throw new UnknownToolError(name);
    // The check fills in defaults: on a copy, so the client's message stays as it came.
    const values = structuredClone(args ?? {});
    const invalid = tool.check(values);
    if (invalid !== undefined) return toolError(`Invalid arguments for tool ${name}: ${invalid}`);
    const invocation = renderInvocation(tool.config, values);
    if ('refused' in invocation) return toolError(invocation.refused);
    if (this.closing) return toolError('The session is ending.');
    if (this.running.size >= MAX_RUNNING_CALLS) {
      return toolError(`Too many calls running in this session (at most ${MAX_RUNNING_CALLS}); try again when one has finished.`);
    }
    return toolRunResult(tool.config, await this.run(tool, invocation, signal));
  }

  private async run(tool: InlineTool, invocation: ToolInvocation, cancelled: AbortSignal): Promise<ToolRun> {
    const { config } = tool;
    const stop = new AbortController();
    const spec = { command: config.command, args: invocation.args, env: { ...this.deps.childBaseEnv, ...invocation.env } };
    const limits = { timeoutMs: config.timeoutMs, maxOutputBytes: config.maxOutputBytes };
    const began = performance.now();
    const run = runToolProcess(this.deps.spawner, spec, limits, AbortSignal.any([cancelled, stop.signal]));
    this.running.set(stop, run);
    try {
      const outcome = await run;
      this.logRun(config.name, outcome, Math.round(performance.now() - began));
      return outcome;
    } finally {
      this.running.delete(stop);
    }
  }

  private logRun(tool: string, run: ToolRun, durationMs: number): void {
    const fields = { ...this.context, tool, durationMs };
    if (!run.started) return this.deps.log.warn({ ...fields, error: run.error }, 'inline tool could not be started');
    const exit = run.end.by === 'exit' ? run.end.exit : {};
    this.deps.log.info(
      { ...fields, ended: run.end.by, ...exit, stdoutBytes: run.stdoutBytes, cutBytes: run.cutBytes },
      'inline tool call ended',
    );
  }

  /** A message from the server to the session; a failure routing it ends this session, not the runner. */
  private deliver(message: JSONRPCMessage | JsonRpcMessage): void {
    try {
      this.onmessage?.(message);
    } catch (err) {
      this.deps.log.error({ ...this.context, err }, 'backend I/O failed');
      this.announceClose(GUARD_END_REASON);
    }
  }

  private announceClose(reason: string): void {
    if (this.closing || this.closeAnnounced) return;
    this.closeAnnounced = true;
    this.onclose?.(reason);
  }
}

/** A protocol error (-32602), as the spec says for an unknown tool; the SDK answers with its code and message. */
class UnknownToolError extends Error {
  readonly code = ErrorCode.InvalidParams;

  constructor(name: string) {
    super(`Unknown tool: ${JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name)}`);
  }
}
