import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { messageOf, parseDuration, type GatehouseConfig, type RuntimeEnvironment } from '#config';
import type { AuditRecord } from '#contracts';
import { createLogger } from '#observability';
import { textTable } from './text-table.js';

export type AuditFormat = 'table' | 'jsonl';
export const AUDIT_FORMATS: readonly AuditFormat[] = ['table', 'jsonl'];

export interface AuditOptions {
  /** A duration back from now ("1h", "720h") or an ISO 8601 time. */
  since: string;
  user?: string;
  server?: string;
  format: AuditFormat;
  limit: string;
}

/** A refusal for the administrator: printed as it is, exit 1. */
class AuditRefused extends Error {}

/** `gatehouse audit`: the audit trail from auth's store, oldest first, as a table or one JSON object per line. */
export async function runAuditCommand(options: AuditOptions, config: GatehouseConfig, runtime: RuntimeEnvironment): Promise<void> {
  try {
    const query = { since: sinceOf(options.since, Date.now()), limit: limitOf(options.limit) + 1 };
    if (options.server !== undefined && config.servers[options.server] === undefined) {
      throw new AuditRefused(
        `there is no server "${options.server}" in the configuration (servers: ${Object.keys(config.servers).join(', ')})`,
      );
    }
    checkStorage(config, runtime);
    if (!config.proxy.audit.enabled)
      process.stderr.write('gatehouse audit: proxy.audit.enabled is false: only older records can be shown\n');
    const log = createLogger({ service: 'audit', level: 'warn', destination: process.stderr });
    // Loaded here, not at start-up: every other command of the CLI would load auth's storage too.
    const { openConfiguredStore } = await import('../../auth/src/auth.factory.js');
    const store = await openConfiguredStore(config.auth?.storage, runtime, log).catch((err: unknown) => {
      throw new AuditRefused(`cannot open the audit store: ${messageOf(err)}`);
    });
    try {
      const found = await store.auditEvents
        .list({
          ...query,
          ...(options.user !== undefined && { user: options.user }),
          ...(options.server !== undefined && { server: options.server }),
        })
        .catch((err: unknown) => {
          throw new AuditRefused(`cannot read the audit store: ${messageOf(err)}`);
        });
      const records = found.slice(0, query.limit - 1);
      process.stdout.write(options.format === 'jsonl' ? records.map((r) => `${jsonLine(r)}\n`).join('') : table(records));
      if (found.length > records.length) {
        process.stderr.write(
          `gatehouse audit: showing the first ${records.length} records; narrow with --since, --user or --server, or raise --limit\n`,
        );
      }
    } finally {
      await store.close();
    }
  } catch (err) {
    if (!(err instanceof AuditRefused)) throw err;
    process.stderr.write(`gatehouse audit: ${err.message}\n`);
    process.exitCode = 1;
  }
}

function sinceOf(text: string, now: number): number {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const at = Date.parse(text);
    if (Number.isNaN(at)) throw new AuditRefused(`--since ${JSON.stringify(text)} is not a valid ISO 8601 time`);
    return at;
  }
  try {
    return now - parseDuration(text);
  } catch {
    throw new AuditRefused(
      `--since expects a duration back from now ("30m", "24h", "720h") or an ISO time ("2026-12-01T00:00:00Z"), not ${JSON.stringify(text)}`,
    );
  }
}

function limitOf(text: string): number {
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1_000_000)
    throw new AuditRefused('--limit expects a whole number from 1 to 1000000');
  return limit;
}

/** Refuses before anything is created: a store that is not there holds no records. */
function checkStorage(config: GatehouseConfig, runtime: RuntimeEnvironment): void {
  const storage = config.auth?.storage;
  if (storage === 'memory') throw new AuditRefused('proxy.auth.storage is "memory": no audit record outlives the process');
  if (storage === 'postgres' || runtime.databaseUrl !== undefined) return;
  const path = join(runtime.dataDir, 'gatehouse.db');
  if (!existsSync(path))
    throw new AuditRefused(`no audit records: ${path} does not exist (is GATEHOUSE_DATA_DIR the one Gatehouse runs with?)`);
}

/** Characters a terminal acts on besides C0: C1 controls, line and paragraph separators, bidirectional marks, overrides and isolates. */
const INVISIBLE = /[\u0080-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** One JSON object, with the characters above escaped too (JSON leaves them raw); names and details come from clients. */
function jsonLine(record: AuditRecord): string {
  const { at, ...rest } = record;
  const text = JSON.stringify({ time: new Date(at).toISOString(), ...rest });
  return text.replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function table(records: AuditRecord[]): string {
  const header = ['TIME', 'KIND', 'OUTCOME', 'USER', 'CLIENT', 'SERVER', 'NAME', 'MS', 'BYTES', 'DETAIL'];
  const rows = records.map((r) => [
    new Date(r.at).toISOString(),
    r.kind,
    r.errorCode === undefined ? r.outcome : `${r.outcome} (${r.errorCode})`,
    r.email ?? r.sub ?? '-',
    r.clientId ?? '-',
    r.server ?? '-',
    r.name ?? '-',
    r.durationMs === undefined ? '-' : String(r.durationMs),
    r.requestBytes === undefined ? '-' : String(r.requestBytes),
    r.detail ?? (r.arguments === undefined ? '' : `arguments ${r.arguments}`),
  ]);
  return textTable([header, ...rows.map((row) => row.map(oneLine))]);
}

/** A cell is one line of plain text: names and details come from clients and backends. */
const oneLine = (cell: string) =>
  [...cell]
    .map((c) => (c < ' ' || c === '\u007f' ? ' ' : c))
    .join('')
    .replace(INVISIBLE, ' ');
