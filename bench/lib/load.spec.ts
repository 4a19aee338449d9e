import { setTimeout as delay } from 'node:timers/promises';
import { callInTurns, type Caller } from './load.js';

/** A group of callers whose calls take a millisecond each, counting its calls and noting whether another group's were in flight meanwhile. */
function group(size: number, inFlight: Map<string, number>, name: string) {
  const made = { calls: 0, overlapped: false };
  const callers: Caller[] = Array.from({ length: size }, () => ({
    call: async () => {
      inFlight.set(name, (inFlight.get(name) ?? 0) + 1);
      if ([...inFlight].some(([other, n]) => other !== name && n > 0)) made.overlapped = true;
      await delay(1);
      inFlight.set(name, (inFlight.get(name) ?? 0) - 1);
      made.calls += 1;
    },
    close: () => Promise.resolve(),
  }));
  return { callers, made };
}

describe('callInTurns', () => {
  it("calls one group at a time, and counts a group's measured windows only", async () => {
    const inFlight = new Map<string, number>();
    const a = group(3, inFlight, 'a');
    const b = group(2, inFlight, 'b');
    const [ofA, ofB] = await callInTurns([a.callers, b.callers], 2, 40);

    expect(a.made.overlapped || b.made.overlapped).toBe(false);
    // Three windows each, the first unmeasured: about two thirds of the calls counted.
    for (const [result, made] of [
      [ofA, a.made],
      [ofB, b.made],
    ] as const) {
      expect(result?.calls).toBeGreaterThan(0);
      expect(result?.calls).toBeLessThan(made.calls);
      expect(result?.calls).toBeGreaterThan(made.calls / 3);
    }
    // Rates over the group's own measured windows (2 × 40 ms), not over the whole run.
    expect(ofA?.callsPerSec).toBeGreaterThan((ofA?.calls ?? 0) / 0.2);
  });
});
