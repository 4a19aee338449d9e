import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { LookupAddress } from 'node:dns';

/** Which addresses a fetch may connect to: public ones (production), loopback ones (dev-mode http), or any (dev-mode https). */
export type AddressRule = 'public' | 'loopback' | 'any';

type Subnet = readonly [network: string, prefix: number];

/** IPv4 ranges that are not globally reachable (IANA special-purpose registry), plus multicast, reserved and broadcast. */
const NON_PUBLIC_IPV4: readonly Subnet[] = [
  ['0.0.0.0', 8], // "this network", including the unspecified address
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, where cloud metadata services live
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255 broadcast
];

/**
 * IPv6 outside global unicast (2000::/3), which covers unspecified, loopback, IPv4-compatible and
 * -translated, NAT64, discard, unique-local, link-local, site-local and multicast; then the special
 * blocks inside 2000::/3. NAT64 (64:ff9b::/96) is refused outright, so an IPv6-only host behind
 * DNS64 cannot fetch documents; 6to4 and Teredo are refused because they embed arbitrary IPv4.
 */
const NON_PUBLIC_IPV6: readonly Subnet[] = [
  ['::', 3],
  ['4000::', 2],
  ['8000::', 1],
  ['2001::', 23], // IETF protocol assignments, Teredo among them
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4
  ['3ffe::', 16], // former 6bone
  ['3fff::', 20], // documentation
];

const IPV4_MAPPED = subnets([], [['::ffff:0:0', 96]]);
const NON_PUBLIC = { ipv4: subnets(NON_PUBLIC_IPV4, []), ipv6: subnets([], NON_PUBLIC_IPV6) };
const LOOPBACK = { ipv4: subnets([['127.0.0.0', 8]], []), ipv6: subnets([], [['::1', 128]]) };

function subnets(ipv4: readonly Subnet[], ipv6: readonly Subnet[]): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of ipv4) list.addSubnet(network, prefix, 'ipv4');
  for (const [network, prefix] of ipv6) list.addSubnet(network, prefix, 'ipv6');
  return list;
}

/** Whether `address` is in `lists`; an IPv4-mapped IPv6 address is judged as the IPv4 address it carries. */
function listed(address: string, lists: { ipv4: BlockList; ipv6: BlockList }): boolean {
  const family = isIP(address);
  if (family === 4) return lists.ipv4.check(address, 'ipv4');
  if (IPV4_MAPPED.check(address, 'ipv6')) return lists.ipv4.check(address, 'ipv6');
  return lists.ipv6.check(address, 'ipv6');
}

/** Whether a fetch under `rule` may connect to `address` (an IP literal; anything else is refused). */
export function isAllowedAddress(address: string, rule: AddressRule): boolean {
  if (isIP(address) === 0) return false;
  if (rule === 'any') return true;
  if (rule === 'loopback') return listed(address, LOOPBACK);
  return !listed(address, NON_PUBLIC);
}

/** A URL's hostname as an IP literal (brackets of IPv6 removed), or undefined when it is a name. */
export function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) === 0 ? undefined : bare;
}

/**
 * A `lookup` for http(s).request that resolves every address of the host, refuses the connection
 * when any of them breaks `rule`, and hands the socket only the addresses it checked: the address
 * connected to is the address checked, so DNS rebinding has no window.
 */
export function guardedLookup(resolve: LookupFunction, rule: AddressRule, refusal: () => Error): LookupFunction {
  return (hostname, options, callback) => {
    const fail = (err: NodeJS.ErrnoException) => callback(err, options.all === true ? [] : '', 0);
    resolve(hostname, { all: true }, (err, resolved, family) => {
      if (err) return fail(err);
      const addresses = typeof resolved === 'string' ? [{ address: resolved, family: family ?? isIP(resolved) }] : resolved;
      if (addresses.length === 0) return fail(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }));
      if (!addresses.every(({ address }) => isAllowedAddress(address, rule))) return fail(refusal());
      const usable = ofFamily(addresses, options.family);
      if (options.all === true) return callback(null, usable);
      const [first] = usable;
      if (first === undefined) return fail(Object.assign(new Error(`no IPv${String(options.family)} address`), { code: 'ENOTFOUND' }));
      callback(null, first.address, first.family);
    });
  };
}

function ofFamily(addresses: LookupAddress[], family: number | string | undefined): LookupAddress[] {
  const wanted = family === 'IPv4' ? 4 : family === 'IPv6' ? 6 : family;
  return wanted === 4 || wanted === 6 ? addresses.filter((entry) => entry.family === wanted) : addresses;
}
