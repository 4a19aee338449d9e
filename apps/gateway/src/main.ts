#!/usr/bin/env node
import 'reflect-metadata';
import { Command, Option } from 'commander';
import { loadOrExit, runCommand } from './commands.js';
import { readRuntimeEnvironment } from '#config';
import { AUDIT_FORMATS, runAuditCommand, type AuditOptions } from './audit.command.js';
import { runTokensCommand, type TokensAction } from './tokens.command.js';
import { gatehouseVersion } from './version.js';

const program = new Command()
  .name('gatehouse')
  .description('Authentication gateway for MCP servers')
  .version(gatehouseVersion(), '-V, --version', 'print the version and exit')
  .showHelpAfterError();

const configOption = ['-c, --config <file>', 'configuration file (mcp-front format)'] as const;
const addrOption = ['--addr <host:port>', 'listen address, overrides proxy.addr'] as const;
const metricsOption = ['--metrics-addr <host:port>', 'serve Prometheus metrics at /metrics on this address (off by default)'] as const;

program
  .command('serve')
  .description('run edge, auth and a runner in one process over an in-process bus (no NATS needed)')
  .requiredOption(...configOption)
  .option(...addrOption)
  .option(...metricsOption)
  .action((opts: { config: string; addr?: string; metricsAddr?: string }) => runCommand('serve', opts));

program
  .command('edge')
  .description('run the public ingress, connected to NATS_URL (default nats://127.0.0.1:4222)')
  .requiredOption(...configOption)
  .option(...addrOption)
  .option(...metricsOption)
  .action((opts: { config: string; addr?: string; metricsAddr?: string }) => runCommand('edge', opts));

program
  .command('auth')
  .description('run the authorization service, connected to NATS_URL; it listens on no port')
  .requiredOption(...configOption)
  .option(...metricsOption)
  .action((opts: { config: string; metricsAddr?: string }) => runCommand('auth', opts));

program
  .command('runner')
  .description('run a backend runner, connected to NATS_URL; it listens on no port (several may run)')
  .requiredOption(...configOption)
  .option('--group <name...>', 'runner groups to serve (default: every group in the config)')
  .option(...metricsOption)
  .action((opts: { config: string; group?: string[]; metricsAddr?: string }) => runCommand('runner', opts));

program
  .command('validate')
  .description('check a configuration file: exit 0 if valid, 1 with every problem listed')
  .requiredOption(...configOption)
  .action((opts: { config: string }) => runCommand('validate', opts));

const tokens = program.command('tokens').description("administer people's own service credentials (per-user tokens) in auth's store");
for (const [action, description] of [
  ['list', "list a person's stored credentials: server, type, when connected, expiry (never the secret)"],
  ['revoke', "delete a person's credentials, revoking oauth ones at the service where it allows"],
] as const) {
  tokens
    .command(action)
    .description(description)
    .requiredOption(...configOption)
    .requiredOption('--user <email>', "the person's email, as the identity provider gave it")
    .option('--server <name>', 'only this server')
    .action((opts: { config: string; user: string; server?: string }) =>
      runTokensCommand(action satisfies TokensAction, opts, loadOrExit(opts.config), readRuntimeEnvironment()),
    );
}

program
  .command('audit')
  .description('show the audit trail: tool calls, resource reads, prompt gets, logins, consents, revocations, credential changes')
  .requiredOption(...configOption)
  .option('--since <when>', 'a duration back from now ("30m", "24h", "720h") or an ISO time', '24h')
  .option('--user <email>', "only this person's records (an email, or a sub)")
  .option('--server <name>', 'only this server')
  .addOption(new Option('--format <format>', 'table, or one JSON object per line').choices(AUDIT_FORMATS).default('table'))
  .option('--limit <n>', 'at most this many records, oldest first', '1000')
  .action((opts: AuditOptions & { config: string }) => runAuditCommand(opts, loadOrExit(opts.config), readRuntimeEnvironment()));

await program.parseAsync();
