import { parseAddr } from './listen-address.js';

describe('parseAddr', () => {
  it.each([
    [':8080', '0.0.0.0', 8080],
    ['127.0.0.1:8080', '127.0.0.1', 8080],
    ['[::1]:8080', '::1', 8080],
    ['[::]:443', '::', 443],
    ['localhost:3000', 'localhost', 3000],
    ['gatehouse.internal.example.com:80', 'gatehouse.internal.example.com', 80],
    [':0', '0.0.0.0', 0],
    ['0.0.0.0:65535', '0.0.0.0', 65535],
  ])('reads %s', (text, host, port) => {
    expect(parseAddr(text)).toEqual({ host, port });
  });

  it.each([
    ['8080', /expected HOST:PORT/],
    ['', /expected HOST:PORT/],
    ['localhost', /expected HOST:PORT/],
    [':http', /expected HOST:PORT/],
    ['::1:8080', /expected HOST:PORT/],
    ['127.0.0.1:', /expected HOST:PORT/],
    [':65536', /port must be between 0 and 65535/],
    [':999999', /port must be between 0 and 65535/],
    ['[127.0.0.1]:80', /only an IPv6 address may be written in brackets/],
    ['[]:80', /only an IPv6 address/],
    ['bad_host:80', /must be a hostname or an IP address/],
    ['http://x:80', /expected HOST:PORT/],
  ])('rejects %j', (text, message) => {
    expect(() => parseAddr(text)).toThrow(message);
  });

  it('names the address in the error', () => {
    expect(() => parseAddr('nope')).toThrow('invalid listen address "nope"');
  });
});
