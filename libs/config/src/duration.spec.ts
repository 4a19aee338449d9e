import { Duration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['5m', 300_000],
    ['4h', 14_400_000],
    ['720h', 2_592_000_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
    ['1.1s', 1_100],
    ['.5m', 30_000],
    ['250us', 0.25],
    ['1000000ns', 1],
    ['0', 0],
    ['+2s', 2_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '5', 'five minutes', '5 m', '1d', '5m 3s', '1.5.5s', 'm', '1h-30m'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration .*expected a duration such as/);
  });

  it('rejects negative durations', () => {
    expect(() => parseDuration('-5s')).toThrow('invalid duration "-5s": must not be negative');
  });
});

describe('Duration schema', () => {
  it('turns a duration into milliseconds', () => {
    expect(Duration.parse('1h30m')).toBe(5_400_000);
  });

  it('rejects zero, since no timeout or interval means anything at zero', () => {
    const result = Duration.safeParse('0s');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('expected a positive duration, got "0s"');
  });
});
