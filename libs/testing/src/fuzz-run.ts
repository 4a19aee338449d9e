import fc from 'fast-check';

/** The seed every fuzz suite uses unless FUZZ_SEED says otherwise: CI runs are reproducible. */
export const DEFAULT_FUZZ_SEED = 20261126;

export interface FuzzRun {
  seed: number;
  numRuns: number;
  /** A counterexample's path (FUZZ_PATH) to replay that one case at once. */
  path?: string;
}

/** Seed and number of cases of a property: fixed by default; FUZZ_SEED, FUZZ_RUNS and FUZZ_PATH override. */
export function fuzzRun(defaultRuns: number): FuzzRun {
  const seed = integerFromEnv('FUZZ_SEED') ?? DEFAULT_FUZZ_SEED;
  const numRuns = integerFromEnv('FUZZ_RUNS') ?? defaultRuns;
  const path = process.env.FUZZ_PATH || undefined;
  return { seed, numRuns, ...(path !== undefined && { path }) };
}

function integerFromEnv(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, not ${JSON.stringify(text)}`);
  return value;
}

/**
 * Runs a property and, when it fails, throws with fast-check's report (the shrunk counterexample
 * and the error it raised) and the environment that replays exactly that case. `timeLimitMs`
 * bounds the whole run, shrinking included; a run cut short before its cases are done fails.
 * Resolves with the number of cases run.
 */
export async function assertFuzz<T>(property: fc.IRawProperty<T>, run: FuzzRun, timeLimitMs: number): Promise<{ numRuns: number }> {
  const details = await fc.check<T>(property, {
    ...run,
    plugins: [fc.interruptAfterTimeLimit(timeLimitMs, { failOnInterrupt: true })],
  });
  if (!details.failed) return { numRuns: details.numRuns };
  const replay = details.counterexamplePath
    ? `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath}`
    : `FUZZ_SEED=${details.seed} FUZZ_RUNS=${run.numRuns}`;
  const report = fc.defaultReportMessage(details);
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(`${report}\n\nError: ${error}\n\nReplay this case (run only this test, jest -t): ${replay}`);
}
