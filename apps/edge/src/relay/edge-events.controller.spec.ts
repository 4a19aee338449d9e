import { PassThrough } from 'node:stream';
import { encode, SessionClosedEventSchema, TokenRevokedEventSchema, type Revocation } from '#contracts';
import { createLogger } from '#observability';
import { nextTurn } from '#testing';
import { EdgeEventsController } from './edge-events.controller.js';

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

function setup() {
  const lines: string[] = [];
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
  const ended: [string, string][] = [];
  const revoked: Revocation[] = [];
  const relay = { ended: (id: string, reason: string) => void ended.push([id, reason]) };
  const verifier = { revoked: (r: Revocation) => void revoked.push(r) };
  const controller = new EdgeEventsController(relay, verifier, createLogger({ service: 'test', destination: out }));
  return { controller, ended, revoked, lines };
}

describe('EdgeEventsController', () => {
  it('ends the session a closed event names', () => {
    const { controller, ended } = setup();
    controller.closed(encode(SessionClosedEventSchema, { sessionId: 's1', reason: 'idle timeout' }));
    expect(ended).toEqual([['s1', 'idle timeout']]);
  });

  it('hands a revocation to the token checks', () => {
    const { controller, revoked } = setup();
    const revocation: Revocation = { kind: 'grant', value: 'g1', until: 1 };
    controller.revoked(encode(TokenRevokedEventSchema, revocation));
    expect(revoked).toEqual([revocation]);
  });

  it('ignores malformed events with a warning, never an error', async () => {
    const { controller, ended, revoked, lines } = setup();
    controller.closed(bytes({ sessionId: 5 }));
    controller.revoked(bytes({ kind: 'user', value: 'x', until: 1 }));
    controller.revoked(new TextEncoder().encode('{'));
    await nextTurn();
    expect(ended).toEqual([]);
    expect(revoked).toEqual([]);
    const levels = lines
      .join('')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { level: number }).level);
    expect(levels).toEqual([40, 40, 40]);
  });
});
