/**
 * Rows measured in turns: every contender runs at once and, round after round, each measures one
 * window while the others wait. Rows measured one after another, minutes apart, move with the
 * machine by more than the differences between them; windows seconds apart see the same machine.
 */

/**
 * Runs `window` once per entry each round, in an order that turns by one each round, so that no
 * entry always follows the same one; round 0 warms up (`measured` false), then `rounds` are measured.
 */
export async function inTurns<T>(
  entries: readonly T[],
  rounds: number,
  window: (entry: T, measured: boolean) => Promise<void>,
): Promise<void> {
  for (let round = 0; round <= rounds; round++) {
    const first = round % entries.length;
    for (const entry of [...entries.slice(first), ...entries.slice(0, first)]) await window(entry, round > 0);
  }
}

/** A positive whole number from the environment, or `fallback` when unset. */
export function positiveFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number, not ${JSON.stringify(raw)}`);
  return value;
}
