import { PassThrough } from 'node:stream';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  it('redacts secrets and keeps the structured fields', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    const log = createLogger({ service: 'test', destination: out });
    log.info({ sessionId: 's1', headers: { authorization: 'Bearer abc', accept: 'x' }, token: 't0k' }, 'hello');
    await new Promise((r) => setImmediate(r));
    const line = JSON.parse(chunks.join('')) as Record<string, unknown>;
    expect(line).toMatchObject({ service: 'test', sessionId: 's1', msg: 'hello', token: '[redacted]' });
    expect(line.headers).toEqual({ authorization: '[redacted]', accept: 'x' });
    expect(chunks.join('')).not.toContain('abc');
  });
});
