/**
 * Reads what `bench/instructions.ts` counts: a callgrind dump (format version 1, one event, `Ir`),
 * with the code V8 compiled named from the process's `--perf-basic-prof` map. Callgrind names code
 * it has no symbols for by its address (`0x…`); the map gives each compiled function's range.
 */

/** Instructions per function: its own, and with what it called (a call to itself counted once). */
export interface FunctionCost {
  self: number;
  inclusive: number;
  /** What each caller's calls to it cost, with their callees' (calls to itself left out). */
  callers: Map<string, number>;
}

/** Names code by address from a perf map: one `<start hex> <size hex> <name>` line per compiled function. */
export class JitNames {
  /** By start address. */
  private readonly entries: { start: number; end: number; name: string }[];

  constructor(perfMap: string) {
    this.entries = perfMap
      .split('\n')
      .map((line) => /^([0-9a-f]+) ([0-9a-f]+) (.+)$/i.exec(line))
      .filter((match) => match !== null)
      .map(([, start = '', size = '', name = '']) => ({ start: parseInt(start, 16), end: parseInt(start, 16) + parseInt(size, 16), name }))
      .sort((a, b) => a.start - b.start);
  }

  /** The compiled function that holds `address`, when the map has one. */
  at(address: number): string | undefined {
    // The last entry that starts at or before the address.
    let low = 0;
    let high = this.entries.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if ((this.entries[middle]?.start ?? 0) <= address) low = middle + 1;
      else high = middle - 1;
    }
    const entry = this.entries[high];
    return entry !== undefined && address < entry.end ? entry.name : undefined;
  }

  /** A callgrind function name, with an address named by the map (and callgrind's `'2` for recursion dropped). */
  label(name: string): string {
    const address = /^0x([0-9a-f]+)(?:'\d+)?$/.exec(name)?.[1];
    const named = address === undefined ? undefined : this.at(parseInt(address, 16));
    return named ?? name.replace(/'\d+$/, '');
  }
}

/** Each function's cost in a callgrind dump, keyed by its label (see `JitNames.label`). */
export function functionCosts(dump: string, names: JitNames): Map<string, FunctionCost> {
  const ids = new Map<string, string>();
  /** `fn=(12) name` defines id 12; a later `fn=(12)` refers to it. */
  const nameOf = (spec: string): string => {
    const match = /^\((\d+)\)(?: (.*))?$/.exec(spec);
    if (!match) return names.label(spec);
    const [, id = '', name] = match;
    if (name !== undefined) ids.set(id, names.label(name));
    return ids.get(id) ?? id;
  };
  const costs = new Map<string, FunctionCost>();
  const costOf = (name: string): FunctionCost => {
    let cost = costs.get(name);
    if (!cost) costs.set(name, (cost = { self: 0, inclusive: 0, callers: new Map() }));
    return cost;
  };
  let current: FunctionCost | undefined;
  let currentName = '';
  let callee = '';
  let afterCalls = false;
  for (const line of dump.split('\n')) {
    if (line.startsWith('fn=')) {
      currentName = nameOf(line.slice(3));
      current = costOf(currentName);
    } else if (line.startsWith('cfn=')) {
      callee = nameOf(line.slice(4));
    } else if (line.startsWith('calls=')) {
      afterCalls = true;
    } else if (current && /^[0-9+*-]/.test(line)) {
      const instructions = Number(line.split(' ')[1] ?? 0);
      // The line after `calls=` is what the call cost, callee included: the caller's inclusive cost only.
      if (!afterCalls) current.self += instructions;
      if (!afterCalls || callee !== currentName) current.inclusive += instructions;
      if (afterCalls && callee !== currentName) {
        const { callers } = costOf(callee);
        callers.set(currentName, (callers.get(currentName) ?? 0) + instructions);
      }
      afterCalls = false;
    }
  }
  return costs;
}
