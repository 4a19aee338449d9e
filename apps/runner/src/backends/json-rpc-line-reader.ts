import { isJsonRpcMessage, MAX_JSON_DEPTH, jsonNestedDeeperThan, type JsonRpcMessage, keepMessageText } from '#contracts';
import { LineSplitter } from '../process/line-splitter.js';

export interface JsonRpcLineHandlers {
  message(message: JsonRpcMessage): void;
  /** A line that is not a JSON-RPC message (a stray log line on stdout): skipped. */
  skipped(): void;
  /** The stream cannot go on (`reason` is safe to show the client); nothing more is read after it. */
  failed(reason: string): void;
}

/**
 * Newline-delimited JSON-RPC from a backend's stdout, as the stdio transport frames it. Holds at
 * most `maxMessageBytes` whatever the backend writes; a longer or too deeply nested message fails
 * the stream, since dropping it would leave its request unanswered.
 */
export class JsonRpcLineReader {
  private readonly lines: LineSplitter;
  private stopped = false;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly handlers: JsonRpcLineHandlers,
  ) {
    this.lines = new LineSplitter(maxMessageBytes, {
      line: (bytes) => this.line(bytes),
      overflow: () => this.fail(`the backend sent a message larger than ${this.maxMessageBytes} bytes`),
    });
  }

  push(chunk: Buffer): void {
    if (!this.stopped) this.lines.push(chunk);
  }

  private line(bytes: Buffer): void {
    if (this.stopped) return;
    const text = bytes.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.handlers.skipped();
    }
    // JSON.parse does not recurse, but what comes after it would.
    if (jsonNestedDeeperThan(text)) return this.fail(`the backend sent a message nested deeper than ${MAX_JSON_DEPTH} levels`);
    if (!isJsonRpcMessage(value)) return this.handlers.skipped();
    keepMessageText(value, text);
    this.handlers.message(value);
  }

  private fail(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.handlers.failed(reason);
  }
}
