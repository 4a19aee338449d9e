import { jest } from '@jest/globals';
import { createServer, Socket } from 'node:net';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { describeBusContract } from './bus.contract.js';
import { BusConnectError } from './bus-errors.js';
import { NatsBus } from './nats-bus.js';

const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
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
  it('sends the server what it publishes in several tasks of one turn in one write, in order', async () => {
    const bus = await NatsBus.connect({ servers, name: prefix });
    const receiver = await NatsBus.connect({ servers, name: prefix });
    const subject = `${prefix}.outbox`;
    const received: string[] = [];
    const all = new Promise<void>((resolve) => {
      receiver.subscribe(subject, (m) => {
        if (received.push(new TextDecoder().decode(m.data)) === 3) resolve();
      });
    });
    await receiver.flush();
    await bus.flush();
    const natsPort = Number(new URL(servers.split(',')[0] ?? '').port || 4222);
    const writes: string[] = [];
    const realWrite = Socket.prototype.write;
    // Every write this process makes to the server, whichever connection makes it: only `bus` publishes meanwhile.
    const spy = jest.spyOn(Socket.prototype, 'write').mockImplementation(function (this: Socket, ...args: Parameters<Socket['write']>) {
      const [chunk] = args;
      if (this.remotePort === natsPort) writes.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return realWrite.apply(this, args);
    });
    try {
      // Three immediates queued together run as three tasks of one check phase, each publishing once.
      // (Three timers were not one turn on a loaded machine: each reads the clock, which may move
      // a millisecond between them.)
      for (const n of ['1', '2', '3']) setImmediate(() => bus.publish(subject, new TextEncoder().encode(n)));
      await all;
    } finally {
      spy.mockRestore();
      await Promise.all([bus.close(), receiver.close()]);
    }
    expect(received).toEqual(['1', '2', '3']);
    expect(writes.filter((w) => w.includes(subject))).toHaveLength(1);
  });
});
