import type { LookupAddress, LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { guardedLookup, ipLiteral, isAllowedAddress } from './outbound-address.js';

describe('isAllowedAddress', () => {
  it.each([
    '10.0.0.1',
    '172.16.5.4',
    '172.31.255.255',
    '192.168.1.1',
    '127.0.0.1',
    '127.255.0.9',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.254',
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '239.1.2.3',
    '240.0.0.1',
    '192.0.0.8',
    '192.0.2.10',
    '198.51.100.7',
    '203.0.113.99',
    '198.18.0.1',
    '::',
    '::1',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    'fec0::1',
    'ff02::1',
    '2001:db8::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '::a00:1',
    '64:ff9b::a00:1',
    '2002:a00:1::1',
    '2001::1',
    '100::1',
  ])('refuses %s under the public rule', (address) => {
    expect(isAllowedAddress(address, 'public')).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '::ffff:8.8.8.8', '2606:4700:4700::1111', '2001:4860:4860::8888'])(
    'allows %s under the public rule',
    (address) => {
      expect(isAllowedAddress(address, 'public')).toBe(true);
    },
  );

  it('allows only loopback addresses under the loopback rule', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'].map((a) => isAllowedAddress(a, 'loopback'))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['10.0.0.1', '8.8.8.8', 'fe80::1', '::'].map((a) => isAllowedAddress(a, 'loopback'))).toEqual([false, false, false, false]);
  });

  it('refuses anything that is not an IP address, whatever the rule', () => {
    expect(isAllowedAddress('localhost', 'any')).toBe(false);
    expect(isAllowedAddress('[::1]', 'any')).toBe(false);
    expect(isAllowedAddress('10.0.0.1', 'any')).toBe(true);
  });
});

describe('ipLiteral', () => {
  it('unwraps IPv6 brackets and leaves names alone', () => {
    expect(ipLiteral('[::1]')).toBe('::1');
    expect(ipLiteral('127.0.0.1')).toBe('127.0.0.1');
    expect(ipLiteral('example.com')).toBeUndefined();
  });
});

/** A resolver answering from a table, recording what it was asked. */
function resolverOf(table: Record<string, LookupAddress[]>, asked: string[] = []): LookupFunction {
  return (hostname, _options, callback) => {
    asked.push(hostname);
    const found = table[hostname];
    if (found === undefined) callback(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }), []);
    else callback(null, found);
  };
}

function lookupWith(lookup: LookupFunction, hostname: string, options: LookupOptions): Promise<{ address: unknown; family?: number }> {
  return new Promise((resolve, reject) => {
    lookup(hostname, options, (err, address, family) => (err ? reject(err) : resolve({ address, family })));
  });
}

describe('guardedLookup', () => {
  const table = {
    'public.test': [
      { address: '8.8.8.8', family: 4 },
      { address: '2001:4860:4860::8888', family: 6 },
    ],
    'mixed.test': [
      { address: '8.8.8.8', family: 4 },
      { address: '10.0.0.1', family: 4 },
    ],
  };
  const refusal = () => new Error('refused');

  it('hands over every checked address when asked for all', async () => {
    const lookup = guardedLookup(resolverOf(table), 'public', refusal);
    await expect(lookupWith(lookup, 'public.test', { all: true })).resolves.toEqual({ address: table['public.test'], family: undefined });
  });

  it('hands over the first address of the wanted family when asked for one', async () => {
    const lookup = guardedLookup(resolverOf(table), 'public', refusal);
    await expect(lookupWith(lookup, 'public.test', {})).resolves.toEqual({ address: '8.8.8.8', family: 4 });
    await expect(lookupWith(lookup, 'public.test', { family: 6 })).resolves.toEqual({ address: '2001:4860:4860::8888', family: 6 });
  });

  it('refuses the host when any one of its addresses is refused', async () => {
    const asked: string[] = [];
    const lookup = guardedLookup(resolverOf(table, asked), 'public', refusal);
    await expect(lookupWith(lookup, 'mixed.test', { all: true })).rejects.toThrow('refused');
    expect(asked).toEqual(['mixed.test']);
  });

  it('accepts a resolver that answers with a single address string', async () => {
    const single: LookupFunction = (_hostname, _options, callback) => callback(null, '10.0.0.1', 4);
    await expect(lookupWith(guardedLookup(single, 'public', refusal), 'one.test', { all: true })).rejects.toThrow('refused');
    await expect(lookupWith(guardedLookup(single, 'any', refusal), 'one.test', {})).resolves.toEqual({ address: '10.0.0.1', family: 4 });
  });

  it('passes resolution errors through', async () => {
    const lookup = guardedLookup(resolverOf(table), 'public', refusal);
    await expect(lookupWith(lookup, 'missing.test', { all: true })).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});
