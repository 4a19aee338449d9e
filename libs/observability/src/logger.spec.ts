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

  it("redacts a database error's query and parameters", async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    const err = Object.assign(new Error('invalid byte sequence'), {
      query: 'UPDATE pending SET idp_code_verifier = $1',
      parameters: ['verifier-secret'],
      driverError: { parameters: ['verifier-secret'] },
    });
    createLogger({ service: 'test', destination: out }).error({ err }, 'auth route failed');
    await new Promise((r) => setImmediate(r));
    expect(chunks.join('')).toContain('invalid byte sequence');
    expect(chunks.join('')).not.toContain('verifier-secret');
    expect(chunks.join('')).not.toContain('idp_code_verifier');
  });

  it('writes the traceId of the trace a line is written in, when it is given one', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    let current: string | undefined = 'abc123';
    const log = createLogger({ service: 'test', destination: out, traceId: () => current });
    log.info('in a trace');
    current = undefined;
    log.info('outside');
    await new Promise((r) => setImmediate(r));
    const lines = chunks
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.traceId)).toEqual(['abc123', undefined]);
  });
});
