import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { httpMethodLabel, mcpMethodLabel, routeLabel, ServerLabels, statusLabels } from './metric-labels.js';
import type { BusRequestOutcome, LoginOutcome, McpOutcome, Metrics, TokenCheckOutcome, UpstreamErrorKind } from './metrics.port.js';

/** Seconds: MCP calls run from milliseconds (lists) to minutes (long tools). */
const MCP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Seconds: a bus request is usually a few milliseconds; opening a session waits for a backend's start. */
const BUS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Every metric of a Gatehouse process, in one registry of its own, with Node's default metrics. */
export class PrometheusMetrics implements Metrics {
  readonly enabled = true;
  readonly registry = new Registry();
  private readonly servers: ServerLabels;
  private readonly http: Counter<'route' | 'method' | 'status' | 'status_class'>;
  private readonly mcp: Counter<'server' | 'method' | 'outcome'>;
  private readonly mcpDuration: Histogram<'server' | 'method' | 'outcome'>;
  private readonly openSessions: Gauge<'server'>;
  private readonly openStreams: Gauge<'server'>;
  private readonly processes: Gauge<'server'>;
  private readonly spawnFailures: Counter<'server'>;
  private readonly busDuration: Histogram<'subject' | 'outcome'>;
  private readonly noResponders: Counter<'subject'>;
  private readonly tokenChecks: Counter<'outcome'>;
  private readonly logins: Counter<'outcome'>;
  private readonly upstreamErrors: Counter<'server' | 'kind'>;

  /** `servers`: the configured server names, the only values the `server` label takes besides `other`. */
  constructor(servers: Iterable<string>) {
    this.servers = new ServerLabels(servers);
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.http = new Counter({
      name: 'gatehouse_http_requests_total',
      help: 'HTTP requests answered by the edge, by route pattern, method and status',
      labelNames: ['route', 'method', 'status', 'status_class'],
      registers,
    });
    this.mcp = new Counter({
      name: 'gatehouse_mcp_requests_total',
      help: 'JSON-RPC requests of MCP clients, by server, method and outcome',
      labelNames: ['server', 'method', 'outcome'],
      registers,
    });
    this.mcpDuration = new Histogram({
      name: 'gatehouse_mcp_request_duration_seconds',
      help: 'Time from an MCP request reaching the edge to its answer',
      labelNames: ['server', 'method', 'outcome'],
      buckets: MCP_BUCKETS,
      registers,
    });
    this.openSessions = new Gauge({
      name: 'gatehouse_open_sessions',
      help: 'MCP sessions open on this runner',
      labelNames: ['server'],
      registers,
    });
    this.openStreams = new Gauge({
      name: 'gatehouse_open_streams',
      help: "Clients' event streams (GET /{server}/mcp, legacy /{server}/sse) held open by this edge",
      labelNames: ['server'],
      registers,
    });
    this.processes = new Gauge({
      name: 'gatehouse_backend_processes',
      help: 'Backend processes running',
      labelNames: ['server'],
      registers,
    });
    this.spawnFailures = new Counter({
      name: 'gatehouse_backend_spawn_failures_total',
      help: 'Backend processes that could not be started',
      labelNames: ['server'],
      registers,
    });
    this.busDuration = new Histogram({
      name: 'gatehouse_bus_request_duration_seconds',
      help: 'Requests over the bus, by subject pattern (ids as *) and outcome',
      labelNames: ['subject', 'outcome'],
      buckets: BUS_BUCKETS,
      registers,
    });
    this.noResponders = new Counter({
      name: 'gatehouse_bus_no_responders_total',
      help: 'Bus requests nobody was subscribed to answer, by subject pattern',
      labelNames: ['subject'],
      registers,
    });
    this.tokenChecks = new Counter({
      name: 'gatehouse_token_checks_total',
      help: 'Access tokens checked at the edge',
      labelNames: ['outcome'],
      registers,
    });
    this.logins = new Counter({
      name: 'gatehouse_logins_total',
      help: 'Sign-ins back from the identity provider',
      labelNames: ['outcome'],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'gatehouse_upstream_errors_total',
      help: 'Failures of remote backends, by server and kind',
      labelNames: ['server', 'kind'],
      registers,
    });
  }

  /** The exposition text and its content type, for a scrape. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  httpRequest(route: string, method: string, status: number | undefined): void {
    this.http.inc({ route: routeLabel(route), method: httpMethodLabel(method), ...statusLabels(status) });
  }

  mcpRequest(server: string, method: string, outcome: McpOutcome, seconds: number): void {
    const labels = { server: this.servers.of(server), method: mcpMethodLabel(method), outcome };
    this.mcp.inc(labels);
    this.mcpDuration.observe(labels, seconds);
  }

  sessions(server: string, delta: 1 | -1): void {
    move(this.openSessions, { server: this.servers.of(server) }, delta);
  }

  streams(server: string, delta: 1 | -1): void {
    move(this.openStreams, { server: this.servers.of(server) }, delta);
  }

  backendProcesses(server: string, delta: 1 | -1): void {
    move(this.processes, { server: this.servers.of(server) }, delta);
  }

  spawnFailed(server: string): void {
    this.spawnFailures.inc({ server: this.servers.of(server) });
  }

  busRequest(subjectPattern: string, outcome: BusRequestOutcome, seconds: number): void {
    this.busDuration.observe({ subject: subjectPattern, outcome }, seconds);
    if (outcome === 'no_responders') this.noResponders.inc({ subject: subjectPattern });
  }

  tokenCheck(outcome: TokenCheckOutcome): void {
    this.tokenChecks.inc({ outcome });
  }

  login(outcome: LoginOutcome): void {
    this.logins.inc({ outcome });
  }

  upstreamError(server: string, kind: UpstreamErrorKind): void {
    this.upstreamErrors.inc({ server: this.servers.of(server), kind });
  }
}

function move(gauge: Gauge<'server'>, labels: { server: string }, delta: 1 | -1): void {
  if (delta > 0) gauge.inc(labels);
  else gauge.dec(labels);
}
