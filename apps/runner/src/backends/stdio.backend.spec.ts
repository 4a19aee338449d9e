import { PassThrough } from 'node:stream';
import { type JsonRpcMessage, keepMessageText, messageText } from '#contracts';
import { createLogger } from '#observability';
import { eventually } from '#testing';
import { NodeProcessSpawner } from '../process/child-process.js';
import { GUARD_END_REASON } from './backend.port.js';
import { StdioBackend, type StdioLimits } from './stdio.backend.js';

const spawner = new NodeProcessSpawner({ timings: { stdinGraceMs: 100, termGraceMs: 200 }, supervise: false });
const context = { sessionId: 'session-1', sub: 'alice', server: 'fixture' };
const started: StdioBackend[] = [];

/** A backend running `script`, its log lines, and the reason it closed with (once it does). */
function backend(script: string, limits: StdioLimits = { maxMessageBytes: 1024 }) {
  const output = new PassThrough();
  const logLines: Record<string, unknown>[] = [];
  output.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const log = createLogger({ service: 'test', destination: output });
  const stdio = new StdioBackend(spawner, { command: process.execPath, args: ['-e', script], env: {} }, log, context, limits);
  started.push(stdio);
  const closed = new Promise<string>((resolve) => (stdio.onclose = resolve));
  return { stdio, logLines, closed };
}

/** A backend that answers every line it reads with `reply(id)`, then idles. */
const answering = (reply: string) =>
  `require("node:readline").createInterface({ input: process.stdin }).on("line", (l) => { const id = JSON.parse(l).id; ${reply} }); setInterval(() => {}, 1000)`;

afterAll(async () => {
  await Promise.all(started.map((b) => b.close()));
});

describe('StdioBackend', () => {
  it('relays messages and ends the session when the backend exits', async () => {
    const { stdio, closed } = backend(answering('console.log(JSON.stringify({ jsonrpc: "2.0", id, result: {} })); process.exit(3)'));
    const messages: JsonRpcMessage[] = [];
    stdio.onmessage = (m) => messages.push(m);
    await stdio.start();
    stdio.send({ jsonrpc: '2.0', id: 7, method: 'ping' });
    expect(await closed).toBe('the backend exited (code 3)');
    expect(messages).toEqual([{ jsonrpc: '2.0', id: 7, result: {} }]);
  });

  it("writes each message as one line of its JSON, never a client's text, and keeps what it wrote", async () => {
    const { stdio } = backend(answering('console.log(JSON.stringify({ jsonrpc: "2.0", id, result: { line: l } }))'));
    const answers: JsonRpcMessage[] = [];
    stdio.onmessage = (m) => answers.push(m);
    await stdio.start();
    // Another tool by the same member name first: a parser that keeps the first would call that one.
    const text = '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"drop_tables","name":"ünï","arguments":{"q":"a\\nb"}}}';
    const request = JSON.parse(text) as JsonRpcMessage;
    keepMessageText(request, text);
    stdio.send(request);
    await eventually(() => answers.length === 1, 'the backend answers');
    expect(answers[0]?.result).toEqual({ line: JSON.stringify(request) });
    expect(JSON.stringify(request)).not.toContain('drop_tables');
    expect(messageText(request)).toBe(JSON.stringify(request));
  });

  it('ends the session with the reason when a message is over maxMessageBytes', async () => {
    const { stdio, closed } = backend(answering('process.stdout.write("x".repeat(5000) + "\\n")'));
    await stdio.start();
    stdio.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    expect(await closed).toBe('the backend sent a message larger than 1024 bytes');
  });

  it('ends the session, not the process, when routing a message throws', async () => {
    const { stdio, closed, logLines } = backend(answering('console.log(JSON.stringify({ jsonrpc: "2.0", id, result: {} }))'));
    stdio.onmessage = () => {
      throw new Error('routing bug');
    };
    await stdio.start();
    stdio.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    expect(await closed).toBe(GUARD_END_REASON);
    expect(logLines).toContainEqual(expect.objectContaining({ level: 50, msg: 'backend I/O failed', sessionId: 'session-1' }));
  });

  it('logs a stderr flood at the rate limit and summarizes the rest', async () => {
    const flood = 'process.stderr.write(Array.from({ length: 5000 }, (_, i) => "line " + i + "\\n").join("")); setInterval(() => {}, 1000)';
    const stderrLogRate = { perSecond: 20, burst: 100, summaryEveryMs: 50 };
    const { stdio, logLines } = backend(flood, { maxMessageBytes: 1024, stderrLogRate });
    await stdio.start();
    const stderr = () => logLines.filter((l) => l.stream === 'stderr').length;
    const dropped = () => logLines.reduce((sum, l) => sum + (typeof l.dropped === 'number' ? l.dropped : 0), 0);
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => stderr() + dropped() >= 5000 && (clearInterval(poll), resolve()), 10);
    });
    expect(stderr()).toBeGreaterThanOrEqual(100);
    expect(stderr()).toBeLessThan(150);
    expect(logLines).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringMatching(/^dropped \d+ stderr lines/) }));
  });

  it('warns about stdout lines that are not JSON-RPC at a limited rate', async () => {
    const { stdio, closed, logLines } = backend('for (let i = 0; i < 500; i++) console.log("not json " + i); process.exit(0)');
    await stdio.start();
    await closed;
    const warnings = logLines.filter((l) => l.msg === 'backend wrote a line that is not JSON-RPC to stdout; skipped');
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(20);
  });
});
