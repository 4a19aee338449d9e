import { ReadBuffer } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { JsonRpcMessage } from '#contracts';
import type { Logger } from '#observability';
import type { BackendProcess, ProcessSpawner, SpawnSpec } from '../process/child-process.js';
import type { BackendConnection, BackendLogContext } from './backend.port.js';

/** A stdio MCP server: newline-delimited JSON-RPC over the child's stdin and stdout. */
export class StdioBackend implements BackendConnection {
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  private process: BackendProcess | undefined;
  private readonly buffer = new ReadBuffer();
  private closing = false;

  constructor(
    private readonly spawner: ProcessSpawner,
    private readonly spec: SpawnSpec,
    private readonly log: Logger,
    private readonly context: BackendLogContext,
  ) {}

  async start(): Promise<void> {
    const child = this.spawner.spawn(this.spec);
    this.process = child;
    child.onStderrLine((line) => this.log.info({ ...this.context, pid: child.pid, stream: 'stderr' }, line));
    child.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    const failure = await child.started;
    if (failure) {
      this.log.warn({ ...this.context, err: failure.message }, 'backend failed to start');
      throw new Error(`the backend could not be started (${errorCode(failure)})`);
    }
    this.log.info({ ...this.context, pid: child.pid }, 'backend started');
    void child.exited.then((exit) => {
      this.log.info({ ...this.context, pid: child.pid, ...exit }, 'backend exited');
      if (!this.closing) this.onclose?.(`the backend exited (${exit.signal ?? `code ${exit.code}`})`);
    });
  }

  send(message: JsonRpcMessage): void {
    // Newline-delimited JSON, as the stdio transport of the spec frames it.
    this.process?.stdin.write(`${JSON.stringify(message)}\n`);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.process?.terminate();
  }

  private receive(chunk: Buffer): void {
    this.buffer.append(chunk);
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = this.buffer.readMessage();
      } catch {
        // A line that is not JSON-RPC (a stray log line on stdout) is skipped, not fatal.
        this.log.warn(this.context, 'backend wrote a line that is not JSON-RPC to stdout; skipped');
        continue;
      }
      if (message === null) return;
      try {
        this.onmessage?.(message);
      } catch (err) {
        // Runs in the child's stdout listener: a throw here would take the whole runner down.
        this.log.error({ ...this.context, err }, 'failed to route a backend message');
      }
    }
  }
}

function errorCode(err: Error): string {
  return 'code' in err && typeof err.code === 'string' ? err.code : 'spawn failed';
}
