import { addressRuleFor, describeBytes, describeDuration } from './metadata-fetch.js';

describe('addressRuleFor', () => {
  it('allows public addresses only outside dev mode, and loopback only for http in dev mode', () => {
    expect(addressRuleFor(new URL('https://app.example.com/c'), false)).toBe('public');
    expect(addressRuleFor(new URL('http://127.0.0.1/c'), true)).toBe('loopback');
    expect(addressRuleFor(new URL('https://10.0.0.5/c'), true)).toBe('any');
  });
});

describe('limits in messages', () => {
  it('reads as people write them', () => {
    expect([describeDuration(5_000), describeDuration(300), describeDuration(1_500)]).toEqual(['5 s', '300 ms', '1500 ms']);
    expect([describeBytes(65_536), describeBytes(1_024), describeBytes(1_000)]).toEqual(['64 KiB', '1 KiB', '1000 bytes']);
  });
});
