/** The Prometheus exposition of one process, read series by series. */
export class Scrape {
  constructor(readonly text: string) {}

  /** The sum of every series of `name` whose labels include `labels` (0 when none). */
  sum(name: string, labels: Record<string, string> = {}): number {
    let total = 0;
    for (const line of this.text.split('\n')) {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const have = new Set((match[2] ?? '').split(/,(?=[a-zA-Z_]+=")/));
      if (Object.entries(labels).every(([k, v]) => have.has(`${k}="${v}"`))) total += Number(match[3]);
    }
    return total;
  }
}

/** GET /metrics at each address; throws unless every one answers 200. */
export async function scrape(...addresses: string[]): Promise<Scrape> {
  const texts = await Promise.all(
    addresses.map(async (address) => {
      const res = await fetch(`http://${address}/metrics`);
      if (res.status !== 200) throw new Error(`${address}/metrics answered ${res.status}`);
      return res.text();
    }),
  );
  return new Scrape(texts.join('\n'));
}
