import type { JsonRpcMessage } from '#contracts';
import { ReplayLog } from './replay-log.js';

const message = (n: number): JsonRpcMessage => ({ jsonrpc: '2.0', method: 'notifications/progress', params: { n } });

/** Appends one event to `key`, sized as sent. */
function send(log: ReplayLog, key: string, n: number): string {
  const event = log.append(key, message(n));
  log.sized(event, 10);
  return event.eventId;
}

describe('ReplayLog', () => {
  it('counts positions per stream from 1 and replays what came after a position', () => {
    const log = new ReplayLog({ messages: 10, bytes: 1000 });
    expect([send(log, 'a', 1), send(log, 'b', 2), send(log, 'a', 3)]).toEqual(['a.1', 'b.1', 'a.2']);
    expect(log.after('a', 1)).toEqual({ events: [expect.objectContaining({ eventId: 'a.2', message: message(3) })], lost: 0 });
  });

  it('forgets a stream once it has ended and none of its events is kept, so a session of many calls stays bounded', () => {
    const log = new ReplayLog({ messages: 3, bytes: 1000 });
    // A POST each, answered and ended, as a session's calls are.
    for (let call = 0; call < 1000; call++) {
      send(log, `call${call}`, call);
      log.ended(`call${call}`);
    }
    expect(log.size).toBe(3);
    expect(log.streamCount).toBe(3);
    // What is kept still replays; what is not is gone, with nothing left to count it by.
    expect(log.after('call999', 0).events.map((e) => e.eventId)).toEqual(['call999.1']);
    expect(log.after('call0', 0)).toEqual({ events: [], lost: 0 });
  });

  it('remembers a stream still open after its events have left the log: its next event does not reuse an id', () => {
    const log = new ReplayLog({ messages: 2, bytes: 1000 });
    send(log, 'long', 1);
    for (let n = 0; n < 5; n++) send(log, `other${n}`, n);
    expect(log.after('long', 0)).toEqual({ events: [], lost: 1 });
    expect(send(log, 'long', 2)).toBe('long.2');
    log.ended('long');
    expect(log.after('long', 0)).toEqual({ events: [expect.objectContaining({ eventId: 'long.2' })], lost: 1 });
  });

  it('keeps an ended stream while one of its events is kept, and forgets it when the last one goes', () => {
    const log = new ReplayLog({ messages: 2, bytes: 1000 });
    send(log, 'a', 1);
    log.ended('a');
    send(log, 'b', 2);
    expect(log.lastEventId('a')).toBe('a.1');
    send(log, 'c', 3);
    expect(log.lastEventId('a')).toBe('a.0');
    expect(log.streamCount).toBe(2);
  });
});
