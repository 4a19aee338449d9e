import { type AuditRecord, keepMessageText } from '#contracts';
import { nextTurn } from '#testing';
import { CallAudit } from './call-audit.js';

/** An audit on, its records, made in the turn after their calls end; `closed` sees them when the trail closes. */
function audit(now: () => number = () => 1000, closed: (records: AuditRecord[]) => void = () => undefined) {
  const records: AuditRecord[] = [];
  const config = { enabled: true, arguments: false, redact: [], maxArgumentBytes: 2048, retentionMs: 0 };
  const calls = new CallAudit(config, { record: (r) => void records.push(r), close: () => Promise.resolve(closed(records)) }, now);
  return { calls, records };
}
const ann = { sub: 'ann', email: 'ann@example.com' };

describe('CallAudit', () => {
  it("records a 2026-07-28 backend's own input_required as such, not as ok", async () => {
    const { calls, records } = audit();
    calls.begin({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'book' } }, 'travel', ann)?.answered({
      jsonrpc: '2.0',
      id: 1,
      result: { resultType: 'input_required', inputRequests: {} },
    });
    await nextTurn();
    expect(records.map((r) => r.outcome)).toEqual(['input_required']);
  });

  it('keeps a resource URI without its user info, query and fragment', async () => {
    const { calls, records } = audit();
    const read = (uri: string) =>
      calls.begin({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri } }, 'files', ann)?.end('ok');
    read('https://files.example/doc?access_token=SECRET123');
    read('s3://key:secret@bucket/object');
    read('file:///etc/hosts');
    await nextTurn();
    expect(records.map((r) => r.name)).toEqual([
      'https://files.example/doc#[redacted]',
      's3://bucket/object#[redacted]',
      'file:///etc/hosts',
    ]);
  });

  it('leaves out an error code that is not a safe integer, and arguments when they are off', async () => {
    const { calls, records } = audit();
    const request = { jsonrpc: '2.0' as const, id: 1, method: 'tools/call', params: { name: 'x', arguments: { q: 1 } } };
    calls.begin(request, 's', ann)?.answered({ jsonrpc: '2.0', id: 1, error: { code: 1e20, message: 'odd' } });
    await nextTurn();
    expect(records).toEqual([
      {
        at: 1000,
        kind: 'tools/call',
        outcome: 'protocol_error',
        sub: 'ann',
        email: 'ann@example.com',
        server: 's',
        name: 'x',
        durationMs: 0,
        requestBytes: expect.any(Number),
      },
    ]);
  });

  it('measures a request by its kept text (see messageText), else by its JSON', async () => {
    const { calls, records } = audit();
    const sent = { jsonrpc: '2.0' as const, id: 1, method: 'tools/call', params: { name: 'é' } };
    const unsent = { jsonrpc: '2.0' as const, id: 2, method: 'tools/call', params: { name: 'é' } };
    // A text the stringify would not make, so that the record shows which one it measured.
    keepMessageText(sent, `  ${JSON.stringify(sent)}  `);
    calls.begin(sent, 's', ann)?.end('ok');
    calls.begin(unsent, 's', ann)?.end('ok');
    await nextTurn();
    const bytes = Buffer.byteLength(JSON.stringify(unsent));
    expect(records.map((r) => r.requestBytes)).toEqual([bytes + 4, bytes]);
  });

  it('makes a record in the turn after its call ended, timed at the end, in the order the calls ended', async () => {
    let clock = 1000;
    const { calls, records } = audit(() => clock);
    const call = (name: string) => calls.begin({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name } }, 's', ann);
    const [first, second] = [call('first'), call('second')];
    clock += 30;
    second?.answered({ jsonrpc: '2.0', id: 1, result: { content: [] } });
    clock += 20;
    first?.end('cancelled');
    clock += 500;
    // The answer goes out in this turn's check phase; its record must not come before it.
    expect(records).toEqual([]);
    await nextTurn();
    expect(records.map((r) => [r.name, r.outcome, r.durationMs])).toEqual([
      ['second', 'ok', 30],
      ['first', 'cancelled', 50],
    ]);
  });

  it('makes the records still waiting before it closes the trail', async () => {
    let heldAtClose = -1;
    const { calls } = audit(undefined, (records) => (heldAtClose = records.length));
    calls.begin({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }, 's', ann)?.end('ok');
    await calls.close();
    expect(heldAtClose).toBe(1);
  });

  it('opens no ticket for other methods, or when the audit is off', () => {
    const { calls } = audit();
    expect(calls.begin({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, 's', ann)).toBeUndefined();
    const off = new CallAudit(
      { enabled: false, arguments: false, redact: [], maxArgumentBytes: 1, retentionMs: 0 },
      { record: () => undefined, close: () => Promise.resolve() },
    );
    expect(off.begin({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }, 's', ann)).toBeUndefined();
  });
});
