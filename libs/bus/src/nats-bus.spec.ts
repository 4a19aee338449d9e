import { createServer } from 'node:net';
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
