#!/usr/bin/env node
// Runs the official MCP conformance suite's server scenarios against test/fixtures/conformance-server.mjs,
// directly and through Gatehouse, for each protocol revision, and prints scenario × target tables.
//
//   npm run conformance -- [--revision 2025-11-25,2026-07-28] [--target direct,serve,nats]
//                          [--scenario NAME[,NAME...]] [--no-build] [--verbose]
//
// Targets:
//   direct  the fixture over its own streamable HTTP transport
//   serve   `gatehouse serve` with the fixture as a stdio server without auth
//   nats    `gatehouse auth`, `edge` and `runner` as separate processes over a private nats-server
//
// The conformance CLI needs Node 22: `node@22` and the conformance package are installed into
// .cache/conformance/tools when missing. Results (checks.json per scenario, process logs) go to
// .cache/conformance/runs/<time>/. Exits 1 when a scenario passes direct but fails through Gatehouse
// (or when a target cannot be started), 0 otherwise.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(ROOT, '.cache/conformance');
const TOOLS = join(CACHE, 'tools');
const CONFORMANCE_VERSION = '0.2.0-alpha.12';
const NODE22 = join(TOOLS, 'node_modules/node/bin/node');
const CONFORMANCE_CLI = join(TOOLS, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const FIXTURE = join(ROOT, 'test/fixtures/conformance-server.mjs');
const GATEHOUSE = join(ROOT, 'dist/apps/gateway/src/main.js');
const NATS_SERVER =
  ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((p) => existsSync(p)) ?? 'nats-server';

const REVISIONS = ['2025-11-25', '2026-07-28'];
const TARGETS = ['direct', 'serve', 'nats'];
const SERVER_NAME = 'conformance';

// ---------------------------------------------------------------- options

/**
 * @typedef {{ revisions: string[], targets: string[], scenarios: string[], build: boolean, verbose: boolean }} Options
 * @typedef {{ pass: boolean, failed: string[] }} Outcome
 * @typedef {Map<string, Outcome>} SuiteResults  scenario → outcome
 */

/** @param {string[]} argv @returns {Options} */
function parseOptions(argv) {
  /** @type {Options} */
  const options = { revisions: REVISIONS, targets: TARGETS, scenarios: [], build: true, verbose: false };
  /** @param {string | undefined} value @param {string} name @returns {string[]} */
  const list = (value, name) => {
    if (value === undefined || value.startsWith('--')) usage(`${name} needs a value`);
    return value.split(',').filter(Boolean);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--revision') options.revisions = list(argv[++i], arg);
    else if (arg === '--target') options.targets = list(argv[++i], arg);
    else if (arg === '--scenario') options.scenarios.push(...list(argv[++i], arg));
    else if (arg === '--no-build') options.build = false;
    else if (arg === '--verbose') options.verbose = true;
    else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument ${arg}`);
  }
  for (const r of options.revisions) if (!REVISIONS.includes(r)) usage(`unknown revision ${r}`);
  for (const t of options.targets) if (!TARGETS.includes(t)) usage(`unknown target ${t}`);
  // Keep the canonical order whatever order they were given in.
  options.revisions = REVISIONS.filter((r) => options.revisions.includes(r));
  options.targets = TARGETS.filter((t) => options.targets.includes(t));
  return options;
}

/** @param {string} [problem] @returns {never} */
function usage(problem) {
  if (problem) console.error(`conformance: ${problem}`);
  console.error(
    'usage: npm run conformance -- [--revision 2025-11-25,2026-07-28] [--target direct,serve,nats] [--scenario NAME,...] [--no-build] [--verbose]',
  );
  process.exit(problem ? 2 : 0);
}

// ---------------------------------------------------------------- processes

/**
 * @typedef {{
 *   child: import('node:child_process').ChildProcessWithoutNullStreams,
 *   name: string,
 *   output: () => string,
 *   waitFor: (re: RegExp, ms?: number) => Promise<RegExpMatchArray>,
 *   stop: () => Promise<void>,
 * }} Proc
 */

/** Every child this script started and has not seen exit, so a failure or Ctrl-C stops them all. @type {Set<Proc>} */
const running = new Set();
/** Temporary directories (Gatehouse data, NATS store) still to remove. @type {Set<string>} */
const tempDirs = new Set();
const removeTempDirs = () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
};

/**
 * Starts a process whose output goes to `logFile` (and is kept for waitFor).
 * @param {string} name
 * @param {string} command
 * @param {string[]} args
 * @param {{ env?: Record<string, string>, logFile?: string }} [options]
 * @returns {Proc}
 */
function start(name, command, args, { env = {}, logFile } = {}) {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = logFile ? createWriteStream(logFile) : undefined;
  let text = '';
  /** @type {Set<() => void>} */
  const waiters = new Set();
  /** @param {Buffer} chunk */
  const onData = (chunk) => {
    text += chunk.toString('utf8');
    if (text.length > 1_000_000) text = text.slice(-500_000);
    log?.write(chunk);
    for (const w of waiters) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  /** @type {Promise<void>} */
  const exited = new Promise((resolveExit) =>
    child.once('exit', () => {
      running.delete(proc);
      log?.end();
      for (const w of waiters) w();
      resolveExit();
    }),
  );
  /** @type {Proc} */
  const proc = {
    child,
    name,
    output: () => text,
    waitFor: (re, ms = 20000) =>
      new Promise((resolveWait, reject) => {
        const deadline = setTimeout(() => finish(new Error(`${name}: no ${re} within ${ms} ms:\n${text.slice(-3000)}`)), ms);
        const check = () => {
          const match = text.match(re);
          if (match) return finish(undefined, match);
          if (child.exitCode !== null || child.signalCode !== null) {
            finish(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before ${re}:\n${text.slice(-3000)}`));
          }
        };
        /** @param {Error | undefined} err @param {RegExpMatchArray} [match] */
        const finish = (err, match) => {
          clearTimeout(deadline);
          waiters.delete(check);
          if (err) reject(err);
          else if (match) resolveWait(match);
        };
        waiters.add(check);
        check();
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(proc);
  return proc;
}

/** @param {Proc[]} procs */
async function stopAll(procs) {
  // Edges first, then auth, runners and NATS last: reverse start order.
  for (const p of [...procs].reverse()) await p.stop();
}

let interrupted = false;
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\nconformance: ${signal}, stopping ${running.size} process(es)…`);
    void stopAll([...running]).finally(() => {
      removeTempDirs();
      process.exit(130);
    });
  });
}

// ---------------------------------------------------------------- helpers

/** @returns {Promise<number>} a TCP port free on 127.0.0.1 now */
async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const address = server.address();
  await new Promise((r) => server.close(() => r(undefined)));
  if (typeof address !== 'object' || address === null) throw new Error('no free port');
  return address.port;
}

/** @param {() => Promise<boolean>} check @param {string} what @param {number} [ms] */
async function waitFor(check, what, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** @param {string} url */
const httpOk = (url) => async () => (await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200;

/** @param {string} file @returns {unknown} */
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** @param {string} command @param {string[]} args */
function run(command, args) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal})`);
}

// ---------------------------------------------------------------- tools

/** @param {string} pkgDir @returns {string | undefined} */
function installedVersion(pkgDir) {
  try {
    const pkg = /** @type {{ version?: string }} */ (readJson(join(pkgDir, 'package.json')));
    return pkg.version;
  } catch {
    return undefined;
  }
}

function ensureTools() {
  const conformanceOk = installedVersion(join(TOOLS, 'node_modules/@modelcontextprotocol/conformance')) === CONFORMANCE_VERSION;
  const nodeOk = existsSync(NODE22) && spawnSync(NODE22, ['--version'], { encoding: 'utf8' }).stdout?.startsWith('v22.');
  if (conformanceOk && nodeOk) return;
  console.error(`conformance: installing node@22 and @modelcontextprotocol/conformance@${CONFORMANCE_VERSION} into ${TOOLS}`);
  mkdirSync(TOOLS, { recursive: true });
  if (!existsSync(join(TOOLS, 'package.json'))) {
    writeFileSync(join(TOOLS, 'package.json'), JSON.stringify({ name: 'gatehouse-conformance-tools', private: true }, null, 2) + '\n');
  }
  run('npm', [
    'install',
    '--no-audit',
    '--no-fund',
    '--prefix',
    TOOLS,
    'node@22',
    `@modelcontextprotocol/conformance@${CONFORMANCE_VERSION}`,
  ]);
  if (!existsSync(NODE22) || !existsSync(CONFORMANCE_CLI)) throw new Error(`the install left no ${NODE22} or ${CONFORMANCE_CLI}`);
}

/** The server scenarios a revision requires, in the CLI's order. @param {string} revision */
function requiredScenarios(revision) {
  const result = spawnSync(NODE22, [CONFORMANCE_CLI, 'list', '--requirements', revision], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`conformance list failed: ${result.stderr}`);
  const lines = result.stdout.split('\n');
  /** @type {string[]} */
  const names = [];
  for (const line of lines.slice(lines.findIndex((l) => l.startsWith('Server scenarios')) + 1)) {
    const match = line.match(/^\s+- (\S+)/);
    if (!match) break;
    names.push(match[1]);
  }
  if (names.length === 0) throw new Error(`no server scenarios listed for ${revision}`);
  return names;
}

// ---------------------------------------------------------------- targets

/** @param {number} port */
function gatehouseConfig(port) {
  return {
    version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
    proxy: { baseURL: `http://127.0.0.1:${port}`, addr: `127.0.0.1:${port}`, name: 'Gatehouse conformance' },
    mcpServers: {
      [SERVER_NAME]: { transportType: 'stdio', command: process.execPath, args: [FIXTURE], timeout: '30s' },
    },
  };
}

/**
 * Starts a target; resolves with its MCP URL and the processes to stop.
 * @param {string} target
 * @param {string} dir  where logs and the config go
 * @param {string} tmp  state removed afterwards (Gatehouse data, the NATS store)
 * @returns {Promise<{ url: string, procs: Proc[] }>}
 */
async function startTarget(target, dir, tmp) {
  /** @type {Proc[]} */
  const procs = [];
  try {
    const port = await freePort();
    if (target === 'direct') {
      const fixture = start('fixture', process.execPath, [FIXTURE, '--http', String(port)], { logFile: join(dir, 'fixture.log') });
      procs.push(fixture);
      await fixture.waitFor(/listening on/);
      return { url: `http://127.0.0.1:${port}/mcp`, procs };
    }
    const configPath = join(dir, 'gatehouse.json');
    writeFileSync(configPath, JSON.stringify(gatehouseConfig(port), null, 2));
    const env = { LOG_LEVEL: 'info', GATEHOUSE_DATA_DIR: join(tmp, 'data') };
    /** @param {string} role @param {string[]} args @param {Record<string, string>} [extraEnv] */
    const gatehouse = (role, args, extraEnv = {}) => {
      const p = start(`gatehouse ${role}`, process.execPath, [GATEHOUSE, ...args], {
        env: { ...env, ...extraEnv },
        logFile: join(dir, `gatehouse-${role}.log`),
      });
      procs.push(p);
      return p;
    };
    if (target === 'serve') {
      gatehouse('serve', ['serve', '--config', configPath]);
    } else {
      const natsPort = await freePort();
      const storeDir = join(tmp, 'nats');
      mkdirSync(storeDir, { recursive: true });
      const nats = start('nats-server', NATS_SERVER, ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', storeDir], {
        logFile: join(dir, 'nats-server.log'),
      });
      procs.push(nats);
      await nats.waitFor(/Server is ready/);
      const natsEnv = { NATS_URL: `nats://127.0.0.1:${natsPort}` };
      const runner = gatehouse('runner', ['runner', '--config', configPath], natsEnv);
      gatehouse('auth', ['auth', '--config', configPath], natsEnv);
      await runner.waitFor(/Gatehouse runner \S+ is ready/);
      gatehouse('edge', ['edge', '--config', configPath], natsEnv);
    }
    await waitFor(httpOk(`http://127.0.0.1:${port}/ready`), `Gatehouse /ready did not answer 200 (logs in ${dir})`);
    return { url: `http://127.0.0.1:${port}/${SERVER_NAME}/mcp`, procs };
  } catch (err) {
    await stopAll(procs);
    throw err;
  }
}

// ---------------------------------------------------------------- one run

/**
 * Runs the conformance CLI (once, or once per scenario when some are named); reads its checks.json files.
 * @param {string} url @param {string} revision @param {string[]} scenarios  empty: all the revision requires
 * @param {string} dir @param {boolean} verbose
 * @returns {Promise<SuiteResults>}
 */
async function runSuite(url, revision, scenarios, dir, verbose) {
  const outDir = join(dir, 'results');
  mkdirSync(outDir, { recursive: true });
  const names = scenarios.length > 0 ? scenarios : [undefined];
  for (const scenario of names) {
    // The CLI refuses --requirements with --scenario; --spec-version runs that scenario at the revision's wire.
    const selection = scenario ? ['--scenario', scenario, '--spec-version', revision] : ['--requirements', revision];
    const args = [CONFORMANCE_CLI, 'server', '--url', url, ...selection, '-o', outDir];
    const cli = start(`conformance ${revision}`, NODE22, args, { logFile: join(dir, `conformance${scenario ? `-${scenario}` : ''}.log`) });
    if (verbose) cli.child.stdout.pipe(process.stderr);
    await new Promise((r) => (cli.child.exitCode !== null ? r(undefined) : cli.child.once('exit', () => r(undefined))));
  }
  /** @type {SuiteResults} */
  const results = new Map();
  for (const entry of readdirSync(outDir)) {
    const match = entry.match(/^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/);
    const file = join(outDir, entry, 'checks.json');
    if (!match || !existsSync(file)) continue;
    const checks = /** @type {{ id: string, status: string }[]} */ (readJson(file));
    const failed = checks.filter((c) => c.status === 'FAILURE').map((c) => c.id);
    results.set(match[1], { pass: failed.length === 0, failed });
  }
  return results;
}

// ---------------------------------------------------------------- main

async function main() {
  const options = parseOptions(process.argv.slice(2));
  ensureTools();
  if (options.build && options.targets.some((t) => t !== 'direct')) run('npm', ['run', 'build', '--silent']);
  if (options.targets.some((t) => t !== 'direct') && !existsSync(GATEHOUSE)) throw new Error(`${GATEHOUSE} is missing: run npm run build`);

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const runDir = join(CACHE, 'runs', stamp);
  mkdirSync(runDir, { recursive: true });
  console.error(`conformance: results in ${runDir}`);

  let regressions = 0;
  let broken = 0;
  /** @type {string[]} */
  const summaries = [];
  for (const revision of options.revisions) {
    const required = requiredScenarios(revision);
    const unknown = options.scenarios.filter((s) => !required.includes(s));
    if (unknown.length > 0) console.error(`conformance: ${revision} does not require ${unknown.join(', ')}; skipped there`);
    const scenarios = options.scenarios.length > 0 ? required.filter((s) => options.scenarios.includes(s)) : required;
    if (scenarios.length === 0) continue;

    /** @type {Map<string, SuiteResults | Error>} */
    const byTarget = new Map();
    for (const target of options.targets) {
      if (interrupted) return 130;
      const dir = join(runDir, revision, target);
      mkdirSync(dir, { recursive: true });
      console.error(`conformance: ${revision} × ${target} …`);
      const tmp = mkdtempSync(join(tmpdir(), `gatehouse-conformance-${target}-`));
      tempDirs.add(tmp);
      try {
        const started = await startTarget(target, dir, tmp);
        try {
          byTarget.set(target, await runSuite(started.url, revision, options.scenarios.length > 0 ? scenarios : [], dir, options.verbose));
        } finally {
          await stopAll(started.procs);
        }
      } catch (err) {
        console.error(`conformance: ${revision} × ${target} failed: ${err instanceof Error ? err.message : String(err)}`);
        byTarget.set(target, err instanceof Error ? err : new Error(String(err)));
        broken++;
      } finally {
        rmSync(tmp, { recursive: true, force: true });
        tempDirs.delete(tmp);
      }
    }

    const table = printTable(revision, scenarios, options.targets, byTarget);
    regressions += table.regressions;
    summaries.push(table.summary);
  }
  console.log('');
  for (const line of summaries) console.log(line);
  if (broken > 0) console.log(`${broken} target run(s) could not be started`);
  if (regressions > 0) console.log(`${regressions} scenario(s) pass direct but fail through Gatehouse`);
  return regressions > 0 || broken > 0 ? 1 : 0;
}

/**
 * Prints one revision's table; counts scenarios that pass direct but not through a Gatehouse target.
 * @param {string} revision @param {string[]} scenarios @param {string[]} targets
 * @param {Map<string, SuiteResults | Error>} byTarget
 */
function printTable(revision, scenarios, targets, byTarget) {
  /** @param {string} target @param {string} scenario */
  const cell = (target, scenario) => {
    const r = byTarget.get(target);
    if (r instanceof Error) return 'error';
    const s = r?.get(scenario);
    return s === undefined ? 'missing' : s.pass ? 'pass' : 'FAIL';
  };
  const width = Math.max(...scenarios.map((s) => s.length), 'scenario'.length);
  /** @param {string} t */
  const col = (t) => t.padEnd(8);
  console.log(`\n${revision}`);
  console.log(`${'scenario'.padEnd(width)}  ${targets.map(col).join('')}`);
  console.log(`${'-'.repeat(width)}  ${targets.map(() => col('-------')).join('')}`);
  let regressions = 0;
  for (const scenario of scenarios) {
    const cells = targets.map((t) => cell(t, scenario));
    const direct = targets.includes('direct') ? cell('direct', scenario) : undefined;
    /** @type {string[]} */
    const notes = [];
    targets.forEach((t, i) => {
      if (t !== 'direct' && direct === 'pass' && cells[i] !== 'pass') {
        regressions++;
        const r = byTarget.get(t);
        const failed = [...new Set(r instanceof Map ? (r.get(scenario)?.failed ?? []) : [])];
        const shown = failed.slice(0, 3).join(', ') + (failed.length > 3 ? ` +${failed.length - 3} more` : '');
        notes.push(`${t}: ${shown || cells[i]}`);
      }
    });
    console.log(`${scenario.padEnd(width)}  ${cells.map(col).join('')}${notes.length ? `  ← ${notes.join('; ')}` : ''}`);
  }
  const counts = targets.map((t) => `${t} ${scenarios.filter((s) => cell(t, s) === 'pass').length}/${scenarios.length}`);
  return { regressions, summary: `${revision}: ${counts.join(', ')}` };
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    console.error(`conformance: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll([...running]);
    removeTempDirs();
    process.exit(1);
  },
);
