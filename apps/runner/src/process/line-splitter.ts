const NEWLINE = 0x0a;

/** Where a `LineSplitter` hands what it finds. */
export interface LineSink {
  /** One line without its newline: at most `maxLineBytes`, and how many bytes past that were dropped. */
  line(bytes: Buffer, cutBytes: number): void;
  /** The current line has just passed `maxLineBytes` (once per line, before its `line`). */
  overflow?(): void;
}

/**
 * Splits a byte stream at newlines, holding at most `maxLineBytes` of a line however long it
 * grows: the rest is counted and dropped, so a writer without newlines costs no memory.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private cutBytes = 0;

  constructor(
    private readonly maxLineBytes: number,
    private readonly sink: LineSink,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
      this.keep(chunk, start, newline);
      this.emit();
      start = newline + 1;
    }
    this.keep(chunk, start, chunk.length);
  }

  /** The stream ended: a last line without a newline is still a line. */
  end(): void {
    if (this.pendingBytes > 0 || this.cutBytes > 0) this.emit();
  }

  private keep(chunk: Buffer, from: number, to: number): void {
    const take = Math.min(this.maxLineBytes - this.pendingBytes, to - from);
    if (take > 0) {
      const part = chunk.subarray(from, from + take);
      // A slice that outlives this call is copied, so it does not pin the whole chunk.
      this.pending.push(take === chunk.length || to !== chunk.length ? part : Buffer.from(part));
      this.pendingBytes += take;
    }
    if (take < to - from) {
      if (this.cutBytes === 0) this.sink.overflow?.();
      this.cutBytes += to - from - take;
    }
  }

  private emit(): void {
    const line = this.pending.length === 1 && this.pending[0] ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    const cut = this.cutBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.cutBytes = 0;
    this.sink.line(line, cut);
  }
}
