const LF = 0x0a;
const CR = 0x0d;

/** One dispatched server-sent event. */
export interface SseEvent {
  /** The `event` field; "message" when absent. */
  type: string;
  data: string;
  /** The stream's last event id once this event is dispatched (ids carry over, as the SSE spec says). */
  lastEventId: string | undefined;
}

export interface SseHandlers {
  event(event: SseEvent): void;
  /** An event (or one line) grew past `maxEventBytes`; it is skipped and nothing of it is kept. */
  oversized(): void;
}

/**
 * The `text/event-stream` format read from bytes (WHATWG HTML, "parsing an event stream"),
 * holding at most `maxEventBytes` of one event however much a server sends without a blank line.
 */
export class SseReader {
  /** The `retry` the server asked for, in milliseconds. */
  retryMs: number | undefined;
  lastEventId: string | undefined;
  private line: Buffer[] = [];
  private lineBytes = 0;
  private afterCr = false;
  private data: string[] = [];
  private eventBytes = 0;
  private type = '';
  private skipping = false;

  constructor(
    private readonly maxEventBytes: number,
    private readonly handlers: SseHandlers,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    if (this.afterCr && chunk[0] === LF) start = 1;
    this.afterCr = false;
    for (let end = nextLineEnd(chunk, start); end !== -1; end = nextLineEnd(chunk, start)) {
      this.keep(chunk.subarray(start, end));
      this.endLine();
      // CRLF is one line end, even split across chunks.
      const crlf = chunk[end] === CR && chunk[end + 1] === LF;
      this.afterCr = chunk[end] === CR && end + 1 === chunk.length;
      start = end + (crlf ? 2 : 1);
    }
    this.keep(chunk.subarray(start));
  }

  private keep(part: Buffer): void {
    if (part.length === 0 || this.skipping) return;
    if (this.lineBytes + part.length + this.eventBytes > this.maxEventBytes) return this.skip();
    // Copied: a slice would pin the whole chunk until the line ends.
    this.line.push(Buffer.from(part));
    this.lineBytes += part.length;
  }

  private skip(): void {
    this.skipping = true;
    this.line = [];
    this.lineBytes = 0;
    this.data = [];
    this.eventBytes = 0;
    this.handlers.oversized();
  }

  private endLine(): void {
    const text = Buffer.concat(this.line, this.lineBytes).toString('utf8');
    this.line = [];
    this.lineBytes = 0;
    if (text === '') return this.dispatch();
    if (this.skipping || text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.field(field, value);
  }

  private field(name: string, value: string): void {
    if (name === 'data') {
      this.data.push(value);
      this.eventBytes += Buffer.byteLength(value) + 1;
    } else if (name === 'event') this.type = value;
    else if (name === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (name === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
  }

  private dispatch(): void {
    const skipped = this.skipping;
    const data = this.data.join('\n');
    const type = this.type || 'message';
    this.skipping = false;
    this.data = [];
    this.eventBytes = 0;
    this.type = '';
    // An event with empty data (a priming event: an id and nothing else) only moves the id on.
    if (skipped || data === '') return;
    this.handlers.event({ type, data, lastEventId: this.lastEventId });
  }
}

function nextLineEnd(chunk: Buffer, from: number): number {
  const lf = chunk.indexOf(LF, from);
  const cr = chunk.indexOf(CR, from);
  if (lf === -1) return cr;
  if (cr === -1) return lf;
  return Math.min(lf, cr);
}
