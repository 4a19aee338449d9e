import { LineSplitter } from './line-splitter.js';

type Seen = { line: string; cut: number };

function splitter(maxLineBytes: number): { lines: LineSplitter; seen: Seen[]; overflows: () => number } {
  const seen: Seen[] = [];
  let overflows = 0;
  const lines = new LineSplitter(maxLineBytes, {
    line: (bytes, cut) => seen.push({ line: bytes.toString(), cut }),
    overflow: () => overflows++,
  });
  return { lines, seen, overflows: () => overflows };
}

describe('LineSplitter', () => {
  it('joins lines across chunks and splits several in one chunk', () => {
    const { lines, seen } = splitter(100);
    for (const chunk of ['{"a":', '1}\n{"b":2}\n{"c"', ':3}\n']) lines.push(Buffer.from(chunk));
    expect(seen).toEqual([
      { line: '{"a":1}', cut: 0 },
      { line: '{"b":2}', cut: 0 },
      { line: '{"c":3}', cut: 0 },
    ]);
  });

  it('keeps a line of exactly the limit whole', () => {
    const { lines, seen, overflows } = splitter(8);
    lines.push(Buffer.from('12345678\n'));
    expect(seen).toEqual([{ line: '12345678', cut: 0 }]);
    expect(overflows()).toBe(0);
  });

  it('cuts a longer line to the limit, counts what it dropped, and goes on with the next line', () => {
    const { lines, seen, overflows } = splitter(8);
    lines.push(Buffer.from('abcdef'));
    lines.push(Buffer.from('ghijkl'));
    lines.push(Buffer.from('mnop\nnext\n'));
    expect(seen).toEqual([
      { line: 'abcdefgh', cut: 8 },
      { line: 'next', cut: 0 },
    ]);
    expect(overflows()).toBe(1);
  });

  it('reports the overflow as soon as the limit is passed, before the line ends', () => {
    const { lines, seen, overflows } = splitter(4);
    lines.push(Buffer.from('abcdefgh'));
    expect(overflows()).toBe(1);
    expect(seen).toEqual([]);
  });

  it('holds one limit of a line that never ends, however much arrives', () => {
    const { lines, seen } = splitter(4096);
    const chunk = Buffer.alloc(64 * 1024, 'e');
    for (let i = 0; i < 1600; i++) lines.push(chunk); // 100 MiB
    lines.end();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.line).toBe('e'.repeat(4096));
    expect(seen[0]?.cut).toBe(1600 * 64 * 1024 - 4096);
  });

  it('hands over a last line without a newline when the stream ends, and nothing for an empty tail', () => {
    const { lines, seen } = splitter(100);
    lines.push(Buffer.from('one\ntwo'));
    lines.end();
    lines.end();
    expect(seen.map((s) => s.line)).toEqual(['one', 'two']);
  });

  it('does not let a kept tail change when the chunk it came from is reused', () => {
    const { lines, seen } = splitter(100);
    const chunk = Buffer.from('first\nsec');
    lines.push(chunk);
    chunk.fill('X');
    lines.push(Buffer.from('ond\n'));
    expect(seen.map((s) => s.line)).toEqual(['first', 'second']);
  });
});
