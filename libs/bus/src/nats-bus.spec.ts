import { jest } from '@jest/globals';
import { createServer, Socket } from 'node:net';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { describeBusContract } from './bus.contract.js';
import { BusConnectError } from './bus-errors.js';
import { NatsBus } from './nats-bus.js';

const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
/** The port the specs' connections talk to: their socket writes and reads are told apart by it. */
const natsPort = Number(new URL(servers.split(',')[0] ?? '').port || 4222);
// unique per run, so parallel runs share the server without sharing subjects or buckets
const prefix = `gh_spec_${Date.now().toString(36)}_${process.pid}_${Math.random().toString(36).slice(2, 6)}`;

describeBusContract('NatsBus', (onError) => NatsBus.connect({ servers, name: prefix, onError }), { prefix });

afterAll(async () => {
  const nc = await connect({ servers });
  const kvm = new Kvm(nc);
  for await (const status of kvm.list()) {
    if (status.bucket.startsWith(prefix)) await (await kvm.open(status.bucket)).destroy();
  }
  await nc.close();
});

/** A port that was just free: nothing listens there now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('NatsBus.connect', () => {
  it('fails fast with an error naming the URL when nothing listens', async () => {
    const url = `nats://127.0.0.1:${await closedPort()}`;
    const started = Date.now();
    const failure = NatsBus.connect({ servers: url });
    await expect(failure).rejects.toBeInstanceOf(BusConnectError);
    await expect(failure).rejects.toThrow(`cannot connect to NATS at ${url}`);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('masks credentials in the URL it reports', async () => {
    const port = await closedPort();
    await expect(NatsBus.connect({ servers: `nats://gate:s3cret@127.0.0.1:${port}` })).rejects.toThrow(
      `cannot connect to NATS at nats://***@127.0.0.1:${port}`,
    );
  });
});

describe('NatsBus outbox', () => {
  it("writes a quiet turn's first message at once, and the rest of a turn and each busy turn in one write, in order", async () => {
    const bus = await NatsBus.connect({ servers, name: prefix });
    const receiver = await NatsBus.connect({ servers, name: prefix });
    const subject = `${prefix}.outbox`;
    const received: string[] = [];
    let arrived: (() => void) | undefined;
    receiver.subscribe(subject, (m) => {
      received.push(new TextDecoder().decode(m.data));
      arrived?.();
    });
    await receiver.flush();
    await bus.flush();
    const writes: string[] = [];
    const realWrite = Socket.prototype.write;
    // Every write this process makes to the server, whichever connection makes it: only `bus` publishes meanwhile.
    const spy = jest.spyOn(Socket.prototype, 'write').mockImplementation(function (this: Socket, ...args: Parameters<Socket['write']>) {
      const [chunk] = args;
      if (this.remotePort === natsPort) writes.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return realWrite.apply(this, args);
    });
    /** Whether each message of `group` was written before its own task ended. */
    const writtenAtOnce: boolean[] = [];
    // Immediates queued together run as tasks of one check phase, each publishing once. (Timers were
    // not one turn on a loaded machine: each reads the clock, which may move a millisecond between them.)
    const turn = async (group: string[]) => {
      const all = new Promise<void>((resolve) => (arrived = () => received.length === Number(group.at(-1)) && resolve()));
      for (const n of group)
        setImmediate(() => {
          bus.publish(subject, new TextEncoder().encode(n));
          // nats.js writes what it was handed when the task's microtasks are done: this one runs after.
          queueMicrotask(() => writtenAtOnce.push(writes.some((w) => w.includes(`\r\n${n}\r\n`))));
        });
      await all;
    };
    try {
      await turn(['1', '2', '3']); // quiet: the first at once, the other two at the turn's end
      await turn(['4', '5', '6']); // after a busy turn: all three at its end
      await turn(['7']); // still after a busy turn: at its end
      await turn(['8']); // after a turn of one: at once
    } finally {
      spy.mockRestore();
      await Promise.all([bus.close(), receiver.close()]);
    }
    expect(received).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    const published = writes.filter((w) => w.includes(subject)).map((w) => w.match(/\r\n\d\r\n/g)?.map((m) => m.trim()));
    expect(published).toEqual([['1'], ['2', '3'], ['4', '5', '6'], ['7'], ['8']]);
    expect(writtenAtOnce).toEqual([true, false, false, false, false, false, false, true]);
  });
});

describe('NatsBus delivery', () => {
  it('handles a message in the socket read that brought it, not a turn later', async () => {
    const bus = await NatsBus.connect({ servers, name: prefix });
    const sender = await NatsBus.connect({ servers, name: prefix });
    const subject = `${prefix}.delivery`;
    // Each read from the server schedules a mark for the end of its turn: a handler that runs after
    // it waited for the turn's check phase.
    let readTurnEnded = false;
    const realEmit: (this: Socket, event: string | symbol, ...args: unknown[]) => boolean = Socket.prototype.emit;
    const spy = jest.spyOn(Socket.prototype, 'emit').mockImplementation(function (
      this: Socket,
      event: string | symbol,
      ...rest: unknown[]
    ) {
      if (event === 'data' && this.remotePort === natsPort) {
        readTurnEnded = false;
        setImmediate(() => (readTurnEnded = true));
      }
      return realEmit.call(this, event, ...rest);
    });
    try {
      const handled = new Promise<boolean>((resolve) => bus.subscribe(subject, () => resolve(readTurnEnded)));
      await bus.flush();
      sender.publish(subject, new TextEncoder().encode('x'));
      expect(await handled).toBe(false);
    } finally {
      spy.mockRestore();
      await Promise.all([bus.close(), sender.close()]);
    }
  });
});
