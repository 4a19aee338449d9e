import { SseReader, type SseEvent } from './sse-reader.js';

function read(chunks: (string | Buffer)[], maxEventBytes = 1024) {
  const events: SseEvent[] = [];
  let oversized = 0;
  const reader = new SseReader(maxEventBytes, { event: (e) => events.push(e), oversized: () => oversized++ });
  for (const chunk of chunks) reader.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return { events, oversized, reader };
}

describe('SseReader', () => {
  it('reads events with their type, id and multi-line data', () => {
    const { events } = read(['event: message\nid: 1\ndata: {"a":\ndata: 1}\n\n', 'data: x\n\n']);
    expect(events).toEqual([
      { type: 'message', data: '{"a":\n1}', lastEventId: '1' },
      { type: 'message', data: 'x', lastEventId: '1' },
    ]);
  });

  it('takes LF, CR and CRLF line ends, a CRLF split across chunks too', () => {
    const { events } = read(['event: endpoint\r', '\ndata: /messages?id=1\r\r', 'data: a\rdata: b\r\n\r\n']);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['endpoint', '/messages?id=1'],
      ['message', 'a\nb'],
    ]);
  });

  it('splits lines anywhere, even inside a multi-byte character', () => {
    const bytes = Buffer.from('data: héllo\n\n');
    const { events } = read([bytes.subarray(0, 8), bytes.subarray(8)]);
    expect(events.map((e) => e.data)).toEqual(['héllo']);
  });

  it('skips comments and keeps the last id and retry of a priming event without dispatching it', () => {
    const { events, reader } = read([': keep-alive\n\nid: prime-1\nretry: 1500\ndata: \n\n']);
    expect(events).toEqual([]);
    expect(reader.lastEventId).toBe('prime-1');
    expect(reader.retryMs).toBe(1500);
  });

  it('ignores a field without a value and an invalid retry', () => {
    const { events, reader } = read(['retry: soon\nfoo\ndata\n\n']);
    expect(reader.retryMs).toBeUndefined();
    expect(events).toEqual([]);
  });

  it('skips an event over maxEventBytes, holding none of it, and reads the next one', () => {
    const big = `data: ${'x'.repeat(300)}\n`;
    const { events, oversized } = read([big, big, big, big, '\n', 'data: small\n\n'], 1000);
    expect(oversized).toBe(1);
    expect(events.map((e) => e.data)).toEqual(['small']);
  });

  it('counts a line without an end against the limit as it grows', () => {
    const flood = Array.from({ length: 50 }, () => `${'x'.repeat(10)}`);
    const { events, oversized } = read(['data: ', ...flood, '\n\n', 'data: ok\n\n'], 100);
    expect(oversized).toBe(1);
    expect(events.map((e) => e.data)).toEqual(['ok']);
  });
});
