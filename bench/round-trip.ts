/**
 * p50/p95/p99 round trip of `echo` (server-everything over stdio): a direct stdio connection,
 * the SDK client's HTTP floor (a server that answers at once), `gatehouse serve`, and edge +
 * runner over the real NATS, measured in one run. The full benchmark suite builds on this.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, startTopology, type Topology, type TopologyKind } from '#testing';
import { startHttpFloor } from './fixtures/http-floor.js';

const EVERYTHING = join(REPO_ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const TOKEN = 'bench-token-0123456789abcdef';
const WARMUP = Number(process.env.BENCH_WARMUP ?? 200);
const CALLS = Number(process.env.BENCH_CALLS ?? 2000);

interface Stats {
  name: string;
  p50: number;
  p95: number;
  p99: number;
}

async function measure(name: string, transport: Transport): Promise<Stats> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(transport);
  const call = () => client.callTool({ name: 'echo', arguments: { message: 'ping' } });
  for (let i = 0; i < WARMUP; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const start = process.hrtime.bigint();
    await call();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  await client.close();
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
  return { name, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

function writeConfig(dir: string): string {
  const path = join(dir, 'bench.json');
  const config = {
    version: 'bench',
    proxy: { baseURL: 'http://127.0.0.1:8080', addr: '127.0.0.1:8080' },
    mcpServers: {
      everything: {
        transportType: 'stdio',
        command: process.execPath,
        args: [EVERYTHING, 'stdio'],
        serviceAuths: [{ type: 'bearer', tokens: [TOKEN] }],
        runnerGroup: `bench${Date.now().toString(36)}`,
      },
    },
  };
  writeFileSync(path, JSON.stringify(config));
  return path;
}

async function throughGateway(kind: TopologyKind, configPath: string): Promise<Stats> {
  let topology: Topology | undefined;
  try {
    topology = await startTopology(kind, configPath, { runnerCount: 1, env: { LOG_LEVEL: 'warn' } });
    const transport = new StreamableHTTPClientTransport(new URL(`${topology.url}/everything/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
    });
    return await measure(kind === 'all-in-one' ? 'gatehouse serve' : 'edge + runner over NATS', transport);
  } finally {
    await topology?.stop();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  try {
    const configPath = writeConfig(dir);
    const direct = await measure('direct stdio', new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'] }));
    const floor = await startHttpFloor();
    const http = await measure('HTTP floor (SDK client, trivial server)', new StreamableHTTPClientTransport(new URL(floor.url)));
    floor.server.close();
    const rows = [direct, http, await throughGateway('all-in-one', configPath), await throughGateway('distributed', configPath)];
    console.log(`echo round trip, ${CALLS} sequential calls after ${WARMUP} warm-up (ms)`);
    console.log('| path | p50 | p95 | p99 | p50 overhead |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) {
      console.log(`| ${r.name} | ${r.p50.toFixed(3)} | ${r.p95.toFixed(3)} | ${r.p99.toFixed(3)} | ${(r.p50 - direct.p50).toFixed(3)} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
