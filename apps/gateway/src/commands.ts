import { LocalBus, MeteredBus, NatsBus, TracedBus, type Bus } from '#bus';
import {
  childProcessBaseEnvironment,
  formatProblems,
  loadConfig,
  parseAddr,
  readRuntimeEnvironment,
  readTracingEnvironment,
  type GatehouseConfig,
} from '#config';
import { keepEncodedValues, subjectPattern } from '#contracts';
import { randomId } from '#crypto';
import {
  createLogger,
  droppedLogLines,
  flushLogs,
  noMetrics,
  PrometheusMetrics,
  serveMetrics,
  startTracing,
  type Logger,
  type Metrics,
} from '#observability';
import { installProcessGuard } from '../../runner/src/process/process-guard.js';

export type CommandName = 'serve' | 'edge' | 'auth' | 'runner' | 'validate';

export interface CommandOptions {
  config: string;
  addr?: string;
  group?: string[];
  /** Where to serve Prometheus metrics at /metrics; no metrics without it. */
  metricsAddr?: string;
}

type Stoppable = { close(): Promise<void> };

/** In one process nothing crosses a network: carry what NATS can be configured to carry at most. */
const IN_PROCESS_MAX_PAYLOAD = 64 * 1024 * 1024;
/** From SIGINT/SIGTERM to exit: every part stopped and the logs written out, or exit 1 at this point. */
const SHUTDOWN_GRACE_MS = 15_000;
/** Once everything stopped, queued log lines get at most this long (within the grace) to reach stdout. */
const LOG_FLUSH_MS = 2_000;

/** Runs one command; services keep running until SIGINT or SIGTERM. */
export async function runCommand(command: CommandName, options: CommandOptions): Promise<void> {
  const runtime = readRuntimeEnvironment();
  const config = loadOrExit(options.config);
  if (command === 'validate') {
    const count = Object.keys(config.servers).length;
    process.stdout.write(`${options.config}: valid (${count} server${count === 1 ? '' : 's'})\n`);
    return;
  }
  // A reader of stderr that went away must not crash the service at its next start-up line.
  process.stderr.on('error', () => undefined);
  // Before the logger: with tracing on, each log line written in a trace carries its traceId.
  const tracing = await startTracing(readTracingEnvironment(command === 'serve' ? 'gatehouse' : `gatehouse-${command}`));
  const log = createLogger({ service: command, level: runtime.logLevel, ...(tracing.enabled && { traceId: () => tracing.traceId() }) });
  // An error nobody caught is logged, and ends only the session whose backend I/O raised it.
  installProcessGuard(log);
  if (runtime.devMode) {
    process.stderr.write('*** GATEHOUSE_DEV=1: development mode. Plain http is allowed on loopback for the gateway, the identity\n');
    process.stderr.write('*** provider, client metadata documents and redirect URIs. Never run a deployment this way. ***\n');
  }
  // First in, so stopped last: the spans of the final requests are exported before exit.
  const stack: Stoppable[] = [{ close: () => tracing.shutdown() }];
  const shutdown = installShutdown(stack, log);
  try {
    const metrics = await startMetrics(config, options.metricsAddr, stack);
    // In-process, a payload's subscriber gets the publisher's bytes: their value is handed over as it is.
    if (command === 'serve') keepEncodedValues();
    const connected: Bus =
      command === 'serve'
        ? new LocalBus({ onError: busError(log), maxPayloadBytes: IN_PROCESS_MAX_PAYLOAD })
        : await NatsBus.connect({ servers: runtime.natsUrl, name: `gatehouse-${command}`, onError: busError(log) });
    const metered = metrics.enabled
      ? new MeteredBus(connected, (subject, outcome, seconds) => metrics.busRequest(subjectPattern(subject), outcome, seconds))
      : connected;
    const bus = tracing.enabled ? new TracedBus(metered, tracing) : metered;
    stack.push(bus);
    void bus.closed.then((err) => {
      if (!shutdown.stopping) fatal(log, `lost the bus connection${err ? `: ${err.message}` : ''}`);
    });
    // Each service's modules are loaded only where it runs: a runner never loads auth's database
    // drivers nor the edge's HTTP server. Auth before runners: stopped in reverse, a runner's last
    // audit records still find auth.
    if (command === 'serve' || command === 'auth') {
      const { startAuth } = await import('../../auth/src/main.js');
      stack.push(await startAuth(bus, { config, runtime, log, metrics, tracing }));
    }
    if (command === 'serve' || command === 'runner') {
      const { startRunner } = await import('../../runner/src/main.js');
      const groups = options.group ?? [...new Set(Object.values(config.servers).map((s) => s.runnerGroup))];
      const runnerId = randomId(9);
      stack.push(
        await startRunner(bus, {
          config,
          runnerId,
          groups,
          childBaseEnv: childProcessBaseEnvironment(),
          log: log.child({ runnerId }),
          metrics,
          tracing,
        }),
      );
      process.stderr.write(`Gatehouse runner ${runnerId} is ready (groups: ${groups.join(', ')})\n`);
    }
    if (command === 'serve' || command === 'edge') {
      const { startEdge } = await import('../../edge/src/main.js');
      const addr = options.addr ? parseAddr(options.addr) : config.proxy.addr;
      const edge = await startEdge(bus, { config, edgeId: randomId(9), log, metrics, tracing }, addr);
      stack.push(edge);
      announce(config, edge.address);
    }
  } catch (err) {
    fatal(log, err instanceof Error ? err.message : String(err));
  }
}

/** One registry for the whole process, served on its own listener; the no-op without `--metrics-addr`. */
async function startMetrics(config: GatehouseConfig, addr: string | undefined, stack: Stoppable[]): Promise<Metrics> {
  if (addr === undefined) return noMetrics;
  const metrics = new PrometheusMetrics(Object.values(config.servers).map((s) => s.name));
  const listener = await serveMetrics(metrics, parseAddr(addr));
  stack.push(listener);
  process.stderr.write(`Gatehouse metrics: http://${listener.address.host}:${listener.address.port}/metrics\n`);
  return metrics;
}

export function loadOrExit(path: string): GatehouseConfig {
  const result = loadConfig(path);
  if (!result.ok) {
    process.stderr.write(`${path}: ${result.problems.length} problem(s)\n${formatProblems(result.problems)}\n`);
    process.exit(1);
  }
  for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
  return result.config;
}

function announce(config: GatehouseConfig, bound: { host: string; port: number }): void {
  const lines = Object.keys(config.servers).map(
    (name) => `  ${name}: ${config.proxy.baseURL}/${name}/mcp   (legacy SSE: ${config.proxy.baseURL}/${name}/sse)`,
  );
  process.stderr.write(`Gatehouse is listening on ${bound.host}:${bound.port}. Give your MCP client:\n${lines.join('\n')}\n`);
}

function installShutdown(stack: Stoppable[], log: Logger): { readonly stopping: boolean } {
  const state = { stopping: false };
  const stop = (signal: string) => {
    if (state.stopping) return;
    state.stopping = true;
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    log.info({ signal }, 'shutting down');
    // A stuck step must not keep a stopping process alive; nothing at exit blocks, so this always fires.
    setTimeout(() => fatal(log, `shutdown took longer than ${SHUTDOWN_GRACE_MS / 1000} s; exiting`), SHUTDOWN_GRACE_MS).unref();
    void (async () => {
      // Last started, first stopped: the edge stops taking requests before runners end sessions.
      for (const part of stack.reverse()) await part.close().catch((err: unknown) => log.error({ err }, 'shutdown step failed'));
      log.info('stopped');
      await flushLogs(log, Math.min(LOG_FLUSH_MS, deadline - Date.now()));
      reportDroppedLogs(log);
      process.exit(0);
    })().catch((err: unknown) => fatal(log, `shutdown failed: ${err instanceof Error ? err.message : String(err)}`));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return state;
}

/** The count of lines stdout could not take, where an operator looks when logs have gaps. */
function reportDroppedLogs(log: Logger): void {
  const dropped = droppedLogLines(log);
  if (dropped > 0) process.stderr.write(`gatehouse: dropped ${dropped} log lines: stdout did not keep up\n`);
}

function busError(log: Logger) {
  return (err: unknown, subject: string) => log.error({ err, subject }, 'bus handler failed');
}

/** Exits at once: stdout and stderr writes never block, and queued log lines are dropped, not waited for. */
function fatal(log: Logger, message: string): never {
  log.fatal(message);
  reportDroppedLogs(log);
  process.stderr.write(`gatehouse: ${message}\n`);
  process.exit(1);
}
