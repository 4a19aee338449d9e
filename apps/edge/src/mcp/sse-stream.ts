import type { ServerResponse } from 'node:http';
import type { JsonRpcMessage } from '#contracts';
import { headerList, type ResponseHeaders } from './http-io.js';

const KEEPALIVE_MS = 15000;
/** How long a client waits before it reconnects a dropped stream (the priming event's `retry`). */
export const RECONNECT_AFTER_MS = 1000;

/** A server-sent-events response: MCP messages as `message` events (with ids when resumable), comments as keepalive. */
export class SseStream {
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    headers: ResponseHeaders = {},
  ) {
    const own = [
      'content-type',
      'text/event-stream',
      'cache-control',
      'no-cache, no-transform',
      'connection',
      'keep-alive',
      'x-accel-buffering',
      'no',
    ];
    res.writeHead(200, headerList(own, headers));
    res.flushHeaders();
    this.keepalive = setInterval(() => this.comment('keepalive'), KEEPALIVE_MS);
    this.keepalive.unref();
    res.once('close', () => clearInterval(this.keepalive));
  }

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  /** One message; `eventId` lets the client resume after it (Last-Event-ID). */
  send(message: JsonRpcMessage, eventId?: string): boolean {
    return this.event('message', JSON.stringify(message), eventId);
  }

  event(name: string, data: string, eventId?: string): boolean {
    if (!this.open) return false;
    this.res.write(`${eventId === undefined ? '' : `id: ${eventId}\n`}event: ${name}\ndata: ${data}\n\n`);
    return true;
  }

  /** SEP-1699: an event id with empty data and the reconnection delay, so a client can resume from the start. */
  prime(eventId: string): void {
    if (this.open) this.res.write(`id: ${eventId}\nretry: ${RECONNECT_AFTER_MS}\ndata: \n\n`);
  }

  end(): void {
    clearInterval(this.keepalive);
    if (this.open) this.res.end();
  }

  private comment(text: string): void {
    if (this.open) this.res.write(`: ${text}\n\n`);
  }
}
