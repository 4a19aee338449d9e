import type { KV } from '@nats-io/kv';
import type { KvBucket } from './bus.port.js';
import { assertKey } from './bus-arguments.js';

/** A JetStream KV bucket; its stream's max_age is the entries' TTL. */
export class NatsKvBucket implements KvBucket {
  constructor(
    private readonly kv: KV,
    private readonly translate: (err: unknown) => unknown,
  ) {}

  async get(key: string): Promise<Uint8Array | null> {
    const entry = await this.call(key, () => this.kv.get(key));
    // deletes and purges leave a marker entry behind; to callers the key is simply gone
    return entry?.operation === 'PUT' ? entry.value : null;
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    await this.call(key, () => this.kv.put(key, value));
  }

  async delete(key: string): Promise<void> {
    await this.call(key, () => this.kv.delete(key));
  }

  private async call<T>(key: string, op: () => Promise<T>): Promise<T> {
    assertKey(key);
    try {
      return await op();
    } catch (err) {
      throw this.translate(err);
    }
  }
}
