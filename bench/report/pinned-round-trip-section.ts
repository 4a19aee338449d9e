/** "Calls/s with the gateway on one core": the pinned rows, each Gatehouse row set against each peer and the better one. */
import { callsPerGatewayCoreSec, type PinnedRoundTrip, type PinnedTurns, type RoundTripRow } from '../lib/results.js';
import { MISSING, milliseconds, perSecond, ratio, seconds, share } from './format.js';
import { cell, table, type Column } from './markdown-table.js';
import { betterPeer, concurrencies, isComparedToPeers, PEERS, referenceRow, relayFloorRow, roundTripSeries } from './round-trip-series.js';

const COLUMNS: Column[] = [
  { header: 'target' },
  { header: 'auth' },
  { header: 'p50 (ms)', align: 'right' },
  { header: 'p99 (ms)', align: 'right' },
  { header: 'calls/s', align: 'right' },
  { header: 'gateway core busy', align: 'right' },
  { header: 'gateway CPU per call (µs)', align: 'right' },
  { header: 'calls per gateway core-second', align: 'right' },
  ...PEERS.map((peer): Column => ({ header: `× ${peer}`, align: 'right' })),
  { header: '× better peer', align: 'right' },
  { header: '× its relay floor', align: 'right' },
];

export function pinnedRoundTripSection(pinned: PinnedRoundTrip | undefined): string {
  const intro =
    pinned === undefined
      ? []
      : [
          `Each gateway's processes pinned to core ${pinned.gatewayCpu} (\`taskset -a -p\` once started: \`gatehouse serve\`; ` +
            "edge, auth, runner and a nats-server of the run's own; the peer), and the load to core " +
            `${pinned.loadCpu}: the bench process with its clients, and every backend (started through \`taskset -c ` +
            `${pinned.loadCpu}\`). ${load(pinned.load)} What one core of gateway serves is its calls over ` +
            'the CPU seconds its processes spent on them (read from `/proc`): calls per gateway core-second. The × columns set a Gatehouse ' +
            "row's calls per gateway core-second against each peer's and against the better of the two, and against " +
            'the relay floor of its design: `relay floor` is a process that gives each session a backend of its own and ' +
            'relays every message to it as it is (no authentication, checks, audit or metrics), as `gatehouse serve` does ' +
            "with all of that; `nats relay floor` is an edge and a runner doing only that over the run's nats-server. " +
            "A relay floor's own ratios to the peers are what the design allows before any of Gatehouse's work.",
          method(pinned.turns),
        ];
  return ['## Calls/s with the gateway on one core', ...intro, ...tables(pinned)].join('\n\n');
}

/** What the load was, and which core it let saturate. */
function load(how: PinnedRoundTrip['load']): string {
  if (how === undefined) {
    return (
      "The load was the unpinned rows' (SDK clients, the Node.js echo server), and its core saturated before the " +
      "gateway's: calls/s says what the clients could do, and CPU per call was measured at part load."
    );
  }
  return (
    `Each session's client is ${how.client} over a kept-alive connection of its own and each backend the ${how.backend}: a load ` +
    "light enough that every gateway's core saturates before the load's (`gateway core busy`, from `/proc/stat` over the " +
    'measured calls; the floors, which cost less than the load, leave theirs half idle). A gateway that is busy wakes ' +
    'once for several calls, where one at part load wakes for each, which costs it more CPU per call.'
  );
}

/** How the rows were measured: in turns, all gateways running at once, or (older runs) one after another. */
function method(turns: PinnedTurns | undefined): string {
  if (turns === undefined) return 'Each gateway was started, measured and stopped after the one before it.';
  return (
    'Every gateway in these tables ran at once, each with its sessions open, and they took turns: at each ' +
    "concurrency, once the load's core had gone quiet after the sessions opened and after one unmeasured round, " +
    `${turns.rounds} rounds in which each gateway called for ${seconds(turns.windowMs)} ` +
    'while the others waited, in an order that turned by one each round; its CPU time was read ' +
    `${seconds(turns.settleMs)} after its window ended, so that work its calls left for later counted with them. ` +
    `A row is the sum of its windows (each gateway first called for ${seconds(turns.warmupMs)}, unmeasured). Rows measured one ` +
    'after another, minutes apart, moved with the speed of this machine by more than they differ; windows seconds apart ' +
    'see the same machine.'
  );
}

function tables(pinned: PinnedRoundTrip | undefined): string[] {
  if (pinned === undefined) return ['_Not measured in this run._'];
  if (pinned.skipped !== undefined) return [`_Not measured in this run: ${cell(pinned.skipped)}._`];
  if (pinned.rows.length === 0) return ['_No pinned round trips were measured in this run._'];
  return concurrencies(pinned.rows).map((c) => `### Pinned: ${c} concurrent sessions\n\n${concurrencyTable(pinned.rows, c)}`);
}

function concurrencyTable(rows: readonly RoundTripRow[], concurrency: number): string {
  const peers = PEERS.map((peer) => callsPerGatewayCoreSec(referenceRow(rows, peer, concurrency)));
  const better = betterPeer(rows, concurrency, callsPerGatewayCoreSec, Math.max);
  const body = roundTripSeries(rows).map((s) => {
    const row = s.byConcurrency.get(concurrency);
    const perCore = callsPerGatewayCoreSec(row);
    const against = (peer: number) => (isComparedToPeers(s.target) ? ratio(perCore, peer) : MISSING);
    const cpuPerCallUs = row?.gatewayCpuMs !== undefined && row.calls > 0 ? (1000 * row.gatewayCpuMs) / row.calls : undefined;
    return [
      s.target,
      s.auth,
      milliseconds(row?.p50Ms),
      milliseconds(row?.p99Ms),
      perSecond(row?.callsPerSec),
      share(row?.gatewayCoreBusy),
      perSecond(cpuPerCallUs),
      perSecond(perCore),
      ...peers.map(against),
      against(better),
      ratio(perCore, callsPerGatewayCoreSec(relayFloorRow(rows, s.target, concurrency))),
    ];
  });
  return table(COLUMNS, body);
}
