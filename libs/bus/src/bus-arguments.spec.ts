import { MAX_HEADER_BYTES, normalizeHeaders } from './bus-arguments.js';
import { BusInvalidArgumentError } from './bus-errors.js';

describe('normalizeHeaders', () => {
  // Each header costs its name, its value and NATS's ": " and CRLF.
  const sized = (bytes: number) => ({ 'x-big': 'v'.repeat(bytes - 'x-big'.length - 4) });

  it('takes headers up to MAX_HEADER_BYTES in all, counted as NATS writes them', () => {
    expect(normalizeHeaders(sized(MAX_HEADER_BYTES))['x-big']).toHaveLength(MAX_HEADER_BYTES - 9);
    expect(() => normalizeHeaders(sized(MAX_HEADER_BYTES + 1))).toThrow(
      new BusInvalidArgumentError(`headers of ${MAX_HEADER_BYTES + 1} bytes exceed the limit of ${MAX_HEADER_BYTES} bytes`),
    );
  });

  it('counts every header and multi-byte characters by their bytes', () => {
    const many = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`h${i}`, 'x']));
    expect(() => normalizeHeaders(many)).toThrow(BusInvalidArgumentError);
    expect(() => normalizeHeaders({ a: 'é'.repeat(MAX_HEADER_BYTES / 2) })).toThrow(BusInvalidArgumentError);
  });
});
