import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough, Readable, Writable } from 'node:stream';
import { createLogger, droppedLogLines, flushLogs } from './logger.js';

const MAX_BACKLOG = 64 * 1024;
const PAD = 'x'.repeat(900);

const readers = new Set<ChildProcess>();

afterEach(() => {
  // A failed expectation must not leave a reader holding the test run open.
  for (const reader of readers) if (reader.exitCode === null && reader.signalCode === null) reader.kill('SIGKILL');
  readers.clear();
});

/** A real pipe to a process that reads nothing until `resume` (a stalled log shipper), then copies it to us. */
function stalledReader(): { input: Writable; resume(): { text(): string; ended: Promise<void> } } {
  const reader = spawn('sh', ['-c', 'read go <&3; exec cat'], { stdio: ['pipe', 'pipe', 'ignore', 'pipe'] });
  readers.add(reader);
  const [input, output, , go] = reader.stdio;
  if (!(input instanceof Writable) || !(output instanceof Readable) || !(go instanceof Writable)) throw new Error('no pipes');
  return {
    input,
    resume: () => {
      let text = '';
      output.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      const ended = once(output, 'end').then(() => undefined);
      go.end('go\n');
      return { text: () => text, ended };
    },
  };
}

function parseLines(text: string): Array<Record<string, unknown>> {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('BoundedLogStream on a pipe nobody reads', () => {
  it('queues at most maxBacklog, drops whole lines beyond it, and reports the count once the reader catches up', async () => {
    const { input, resume } = stalledReader();
    const log = createLogger({ service: 'test', destination: input, maxBacklog: MAX_BACKLOG });
    const total = 5000;
    let mostQueued = 0;
    for (let i = 0; i < total; i++) {
      log.info({ i, pad: PAD }, 'line');
      mostQueued = Math.max(mostQueued, input.writableLength);
    }
    const dropped = droppedLogLines(log);
    expect(mostQueued).toBeLessThanOrEqual(MAX_BACKLOG);
    expect(dropped).toBeGreaterThan(total / 2);

    const reader = resume();
    expect(await flushLogs(log, 10000)).toEqual({ flushed: true, droppedLines: dropped });
    input.end();
    await reader.ended;
    const lines = parseLines(reader.text());
    const kept = lines.filter((l) => l.msg === 'line').map((l) => l.i);
    expect(kept).toHaveLength(total - dropped);
    expect(kept).toEqual([...kept].sort((a, b) => Number(a) - Number(b)));
    expect(lines.filter((l) => l.msg !== 'line')).toEqual([
      expect.objectContaining({ level: 40, droppedLines: dropped, msg: `dropped ${dropped} log lines: the log output fell behind` }),
    ]);
  });

  it('gives queued lines a bounded time to be written, then reports them unwritten', async () => {
    const { input, resume } = stalledReader();
    const log = createLogger({ service: 'test', destination: input, maxBacklog: MAX_BACKLOG });
    for (let i = 0; i < 1000; i++) log.info({ i, pad: PAD }, 'line');
    const started = Date.now();
    const stuck = await flushLogs(log, 300);
    const waited = Date.now() - started;
    expect(stuck.flushed).toBe(false);
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(2000);

    const reader = resume();
    expect((await flushLogs(log, 10000)).flushed).toBe(true);
    input.end();
    await reader.ended;
  });

  it('drops and counts lines, without an error, once the reader has gone away', async () => {
    // A reader that closes its end of the pipe and lives on: the next write fails with EPIPE.
    const reader = spawn('sh', ['-c', 'exec 0<&-; echo closed; exec sleep 60'], { stdio: ['pipe', 'pipe', 'ignore'] });
    readers.add(reader);
    await once(reader.stdout, 'data');
    const log = createLogger({ service: 'test', destination: reader.stdin, maxBacklog: MAX_BACKLOG });
    const closed = new Promise((resolve) => reader.stdin.once('close', resolve));
    log.info('into a closed pipe');
    await closed;
    const before = droppedLogLines(log);
    for (let i = 0; i < 10; i++) log.info({ i }, 'after the reader left');
    expect(droppedLogLines(log)).toBe(before + 10);
    expect(await flushLogs(log, 5000)).toEqual({ flushed: false, droppedLines: before + 10 });
  });
});

describe('BoundedLogStream on a reader that keeps up', () => {
  it('loses nothing', async () => {
    const out = new PassThrough();
    let text = '';
    out.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    const log = createLogger({ service: 'test', destination: out, maxBacklog: MAX_BACKLOG });
    for (let i = 0; i < 2000; i++) log.info({ i, pad: PAD }, 'line');
    expect(await flushLogs(log, 5000)).toEqual({ flushed: true, droppedLines: 0 });
    expect(parseLines(text)).toHaveLength(2000);
  });

  it('drops a single line larger than the backlog and says so', async () => {
    const out = new PassThrough();
    let text = '';
    out.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    const log = createLogger({ service: 'test', destination: out, maxBacklog: MAX_BACKLOG });
    log.info({ pad: 'y'.repeat(MAX_BACKLOG) }, 'huge');
    log.info('small');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await flushLogs(log, 5000)).toEqual({ flushed: true, droppedLines: 1 });
    expect(parseLines(text).map((l) => l.msg)).toEqual(['small', 'dropped 1 log lines: the log output fell behind']);
  });
});
