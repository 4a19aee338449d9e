import { isIP, isIPv6 } from 'node:net';

/** Where edge listens: a host (name or IP literal, IPv6 without brackets) and a TCP port. */
export interface ListenAddress {
  host: string;
  port: number;
}

const ADDR = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d+)$/;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** Every IPv4 interface, which is what Go's ":8080" means for most deployments. */
const ANY_HOST = '0.0.0.0';

/**
 * Parses a Go-style listen address (":8080", "127.0.0.1:8080", "[::1]:8080", "localhost:8080")
 * as written in `proxy.addr` or passed to `--addr`; throws an Error saying what was expected.
 */
export function parseAddr(text: string): ListenAddress {
  const invalid = (why: string) => new Error(`invalid listen address ${JSON.stringify(text)}: ${why}`);
  const match = ADDR.exec(text);
  if (!match) throw invalid('expected HOST:PORT such as ":8080", "127.0.0.1:8080" or "[::1]:8080"');
  const [, bracketed, plain, portText = ''] = match;

  const port = Number(portText);
  if (portText.length > 5 || port > 65_535) throw invalid('the port must be between 0 and 65535');

  if (bracketed !== undefined) {
    if (!isIPv6(bracketed)) throw invalid('only an IPv6 address may be written in brackets');
    return { host: bracketed, port };
  }
  const host = plain ?? '';
  if (host === '') return { host: ANY_HOST, port };
  if (isIP(host) === 0 && !HOSTNAME.test(host)) throw invalid('the host must be a hostname or an IP address');
  return { host, port };
}
