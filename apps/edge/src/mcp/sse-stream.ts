import type { ServerResponse } from 'node:http';
import type { JsonRpcMessage } from '#contracts';

const KEEPALIVE_MS = 15000;

/** A server-sent-events response: MCP messages as `message` events, comments as keepalive. */
export class SseStream {
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    headers: Record<string, string> = {},
  ) {
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    this.keepalive = setInterval(() => this.comment('keepalive'), KEEPALIVE_MS);
    this.keepalive.unref();
    res.once('close', () => clearInterval(this.keepalive));
  }

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  send(message: JsonRpcMessage): boolean {
    return this.event('message', JSON.stringify(message));
  }

  event(name: string, data: string): boolean {
    if (!this.open) return false;
    this.res.write(`event: ${name}\ndata: ${data}\n\n`);
    return true;
  }

  end(): void {
    clearInterval(this.keepalive);
    if (this.open) this.res.end();
  }

  private comment(text: string): void {
    if (this.open) this.res.write(`: ${text}\n\n`);
  }
}
