/** Round-trip rows grouped the way the page shows them: one series per (target, auth), one point per concurrency. */
import { TARGET_NAMES, type RoundTripRow, type TargetName } from '../lib/results.js';

export type Auth = RoundTripRow['auth'];

const AUTH_ORDER: readonly Auth[] = ['none', 'bearer', 'jwt'];

/** The peers each Gatehouse row is compared against, in column order. */
export const PEERS: readonly TargetName[] = ['supergateway', 'mcp-proxy'];

export interface RoundTripSeries {
  target: TargetName;
  auth: Auth;
  /** `2026-07-28` for stateless calls through a warm pool; absent for 2025 sessions. */
  protocol?: RoundTripRow['protocol'];
  /** "gatehouse serve (jwt)", "gatehouse serve (bearer, 2026-07-28)"; just the target when callers do not authenticate. */
  label: string;
  /** Concurrency → the row measured at it; a concurrency the series lacks has no entry. */
  byConcurrency: ReadonlyMap<number, RoundTripRow>;
}

export function isGatehouse(target: TargetName): boolean {
  return target === 'gatehouse serve' || target === 'gatehouse nats';
}

/** The relay floor of a Gatehouse topology: its design with none of its work. */
function relayFloorOf(target: TargetName): TargetName | undefined {
  if (target === 'gatehouse serve') return 'relay floor';
  if (target === 'gatehouse nats') return 'nats relay floor';
  return undefined;
}

/** The row of `target`'s relay floor at `concurrency`; undefined for a target that has none, or when it was not measured. */
export function relayFloorRow(rows: readonly RoundTripRow[], target: TargetName, concurrency: number): RoundTripRow | undefined {
  const floor = relayFloorOf(target);
  return floor === undefined ? undefined : referenceRow(rows, floor, concurrency);
}

/** Whether a row is set against the peers: Gatehouse's, and the relay floors of its designs. */
export function isComparedToPeers(target: TargetName): boolean {
  return isGatehouse(target) || target === 'relay floor' || target === 'nats relay floor';
}

export function seriesLabel(target: TargetName, auth: Auth, protocol?: RoundTripRow['protocol']): string {
  const qualifiers = [...(auth === 'none' ? [] : [auth]), ...(protocol === undefined ? [] : [protocol])];
  return qualifiers.length === 0 ? target : `${target} (${qualifiers.join(', ')})`;
}

/** The concurrencies measured, ascending. */
export function concurrencies(rows: readonly RoundTripRow[]): number[] {
  return [...new Set(rows.map((r) => r.concurrency))].sort((a, b) => a - b);
}

/**
 * Every (target, auth, protocol) measured at any concurrency, in page order (a target's 2026-07-28
 * series after its 2025 ones); the first row wins if one is repeated.
 */
export function roundTripSeries(rows: readonly RoundTripRow[]): RoundTripSeries[] {
  type Entry = { target: TargetName; auth: Auth; protocol?: RoundTripRow['protocol']; byConcurrency: Map<number, RoundTripRow> };
  const series = new Map<string, Entry>();
  for (const row of rows) {
    const key = `${row.target}\u0000${row.auth}\u0000${row.protocol ?? ''}`;
    const entry: Entry = series.get(key) ?? {
      target: row.target,
      auth: row.auth,
      ...(row.protocol !== undefined && { protocol: row.protocol }),
      byConcurrency: new Map<number, RoundTripRow>(),
    };
    if (!entry.byConcurrency.has(row.concurrency)) entry.byConcurrency.set(row.concurrency, row);
    series.set(key, entry);
  }
  return [...series.values()]
    .sort(
      (a, b) =>
        rank(TARGET_NAMES, a.target) - rank(TARGET_NAMES, b.target) ||
        Number(a.protocol !== undefined) - Number(b.protocol !== undefined) ||
        rank(AUTH_ORDER, a.auth) - rank(AUTH_ORDER, b.auth),
    )
    .map((s) => ({ ...s, label: seriesLabel(s.target, s.auth, s.protocol) }));
}

/** The 2025 row of `target` at `concurrency`, preferring unauthenticated callers (the peers and direct take no auth). */
export function referenceRow(rows: readonly RoundTripRow[], target: TargetName, concurrency: number): RoundTripRow | undefined {
  const candidates = rows.filter((r) => r.target === target && r.concurrency === concurrency && r.protocol === undefined);
  return candidates.find((r) => r.auth === 'none') ?? candidates[0];
}

/** The 2025 row of `target` with `auth` at `concurrency`: a 2026-07-28 row never stands in for one. */
export function findRow(rows: readonly RoundTripRow[], target: TargetName, auth: Auth, concurrency: number): RoundTripRow | undefined {
  return rows.find((r) => r.target === target && r.auth === auth && r.concurrency === concurrency && r.protocol === undefined);
}

/** The better of the two peers at `concurrency` by `pick` (`best` of both values); NaN unless both peers were measured. */
export function betterPeer(
  rows: readonly RoundTripRow[],
  concurrency: number,
  pick: (r: RoundTripRow) => number,
  best: (a: number, b: number) => number,
): number {
  // Math.max and Math.min pass NaN through: one peer missing makes the better one unknown.
  const [first, second] = PEERS.map((peer) => {
    const found = findRow(rows, peer, 'none', concurrency);
    return found === undefined ? Number.NaN : pick(found);
  });
  return best(first ?? Number.NaN, second ?? Number.NaN);
}

/**
 * The floor of any gateway, in ms: the HTTP floor's p50 (the SDK client over HTTP to an endpoint that
 * answers at once) plus direct stdio's p50 (the backend's own round trip), one session each; NaN when
 * either was not measured.
 */
export function floorP50Ms(rows: readonly RoundTripRow[]): number {
  const p50 = (target: TargetName) => referenceRow(rows, target, 1)?.p50Ms ?? Number.NaN;
  return p50('http floor') + p50('direct');
}

function rank<T>(order: readonly T[], value: T): number {
  const index = order.indexOf(value);
  return index === -1 ? order.length : index;
}
