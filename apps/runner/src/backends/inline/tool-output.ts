import { StringDecoder } from 'node:string_decoder';

/** The first `maxBytes` of a stream, and how many bytes came after them (read and dropped). */
export class CappedOutput {
  private readonly chunks: Buffer[] = [];
  private keptBytes = 0;
  private droppedBytes = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    const room = this.maxBytes - this.keptBytes;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.chunks.push(part);
      this.keptBytes += part.length;
    }
    this.droppedBytes += Math.max(0, chunk.length - Math.max(room, 0));
  }

  get cutBytes(): number {
    return this.droppedBytes;
  }

  /** As UTF-8; when cut, a character split by the cut is left out rather than mangled. */
  text(): string {
    const kept = Buffer.concat(this.chunks, this.keptBytes);
    return this.droppedBytes === 0 ? kept.toString('utf8') : new StringDecoder('utf8').write(kept);
  }
}

/** The last `maxChars` characters of the lines a stream wrote (each line already cut by the spawner). */
export class TailLines {
  private readonly lines: string[] = [];
  private chars = 0;

  constructor(private readonly maxChars: number) {}

  push(line: string, cutBytes: number): void {
    const text = cutBytes === 0 ? line : `${line} … [${cutBytes} more bytes cut]`;
    this.lines.push(text);
    this.chars += text.length + 1;
    // Whole lines go once the rest already covers the tail.
    while (this.lines.length > 1 && this.chars - (this.lines[0]?.length ?? 0) - 1 >= this.maxChars) {
      this.chars -= (this.lines.shift()?.length ?? 0) + 1;
    }
  }

  text(): string {
    const all = this.lines.join('\n');
    return all.length <= this.maxChars ? all : `…${all.slice(all.length - this.maxChars)}`;
  }
}
