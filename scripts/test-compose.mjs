#!/usr/bin/env node
// Smoke test of docker-compose.yml and deploy/Dockerfile against a real Docker engine:
//
//   npm run test:compose
//
// 1. builds the image (once, through compose) and checks the runtime stage: no compiler, and
//    better-sqlite3 (compiled from source in the build stage) loads;
// 2. `docker compose up -d --build` under a unique project name, the edge on a free port;
// 3. waits for the edge's /ready and its healthcheck, then calls the `echo` tool of the `everything`
//    server (examples/compose.json) through it with the MCP SDK client and a bearer token;
// 4. scales to 3 runners and runs several sessions at once;
// 5. reads the audit trail in the auth container (`gatehouse audit`): the calls, from runners over NATS;
// 6. checks that `up` without GATEHOUSE_TOKEN fails with a message, and that a service whose
//    variable is empty exits with the message and stops after its restart limit;
// 7. always: `down -v --rmi local`, removes the image it built, then checks that no container,
//    volume (named or anonymous), network or image of the project is left.
//
// Needs Docker with Compose v2 (`docker compose`), `npm ci` done (the MCP SDK client comes from
// node_modules), and the base images: NODE_BUILD_IMAGE (default node:20-bookworm, must have
// python3, make, g++), NODE_IMAGE (default node:20-bookworm-slim), NATS_IMAGE (default nats:2) -
// pulled by Docker if missing. Not part of `npm test`. Every wait has a timeout; the build's is
// COMPOSE_TEST_BUILD_TIMEOUT seconds (default 1200). Exits 1 on the first failure. Interrupted
// (Ctrl-C), it leaves the stack up: `docker compose -p <project it printed> down -v --rmi local`.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PROJECT = `gh-compose-test-${randomBytes(4).toString('hex')}`;
const IMAGE = `${PROJECT}:latest`;
const TOKEN = randomBytes(16).toString('hex');
const BUILD_TIMEOUT = Number(process.env.COMPOSE_TEST_BUILD_TIMEOUT ?? 1200) * 1000;
const START = Date.now();
const work = mkdtempSync(join(tmpdir(), 'gh-compose-test-'));

/**
 * @typedef {{ code: number, stdout: string, stderr: string }} Ran
 * @typedef {{ env?: NodeJS.ProcessEnv, timeoutMs?: number, quiet?: boolean }} RunOptions
 */

let step = 0;
const elapsed = () => `${((Date.now() - START) / 1000).toFixed(1).padStart(6)}s`;
const log = (/** @type {string} */ msg) => console.log(`[${elapsed()}] ${msg}`);
const section = (/** @type {string} */ title) => console.log(`\n[${elapsed()}] === ${++step}. ${title}`);
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
class Failure extends Error {}
/** @param {string} msg @returns {never} */
const fail = (msg) => {
  throw new Failure(msg);
};

/**
 * Runs a command; resolves with its exit code and output, kills it after timeoutMs.
 * @param {string} cmd @param {string[]} args @param {RunOptions} [options] @returns {Promise<Ran>}
 */
function run(cmd, args, { env = process.env, timeoutMs = 120_000, quiet = false } = {}) {
  return new Promise((resolveRun, reject) => {
    if (!quiet) log(`$ ${[cmd, ...args].join(' ')}`);
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Failure(`timed out after ${timeoutMs / 1000} s: ${cmd} ${args.join(' ')}\n${stdout}${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** One line of JSON that must be an object. @param {string} line @returns {Record<string, unknown>} */
function jsonObject(line) {
  /** @type {unknown} */
  const value = JSON.parse(line);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`not a JSON object: ${line}`);
  return /** @type {Record<string, unknown>} */ (value);
}

/** Like run, but a non-zero exit is a failure. @param {string} cmd @param {string[]} args @param {RunOptions} [opts] */
async function must(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) fail(`exit ${r.code}: ${cmd} ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return r;
}

const composeEnv = { ...process.env, GATEHOUSE_IMAGE: IMAGE, GATEHOUSE_TOKEN: TOKEN };
const compose = (/** @type {string[]} */ args, /** @type {RunOptions} */ opts = {}) =>
  run('docker', ['compose', '-p', PROJECT, ...args], { env: composeEnv, ...opts });
const mustCompose = (/** @type {string[]} */ args, /** @type {RunOptions} */ opts = {}) =>
  must('docker', ['compose', '-p', PROJECT, ...args], { env: composeEnv, ...opts });

/** @param {string} what @param {number} timeoutMs @param {() => Promise<true | string>} probe */
async function waitFor(what, timeoutMs, probe) {
  const until = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const r = await probe();
    if (r === true) return;
    if (r !== last) log(`  waiting for ${what}: ${r}`);
    last = r;
    if (Date.now() > until) fail(`${what}: not within ${timeoutMs / 1000} s (last: ${r})`);
    await sleep(500);
  }
}

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
      srv.close(() => resolvePort(port));
    });
  });
}

/** One MCP session: initialize, tools/list, tools/call echo, then DELETE. @param {string} base @param {string} message */
async function echoSession(base, message) {
  const client = new Client({ name: 'gatehouse-compose-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/everything/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
  });
  const opts = { timeout: 30_000 };
  try {
    await client.connect(transport, opts);
    const { tools } = await client.listTools(undefined, opts);
    if (!tools.some((t) => t.name === 'echo')) fail(`no echo tool in tools/list: ${tools.map((t) => t.name).join(', ')}`);
    const result = await client.callTool({ name: 'echo', arguments: { message } }, undefined, opts);
    const content = /** @type {{ type: string, text?: string }[]} */ (result.content ?? []);
    const text = content.map((c) => (c.type === 'text' ? c.text : '')).join('');
    if (text !== `Echo: ${message}`) fail(`echo answered ${JSON.stringify(result)}`);
    const sessionId = transport.sessionId;
    await transport.terminateSession();
    return { text, sessionId };
  } finally {
    await client.close();
  }
}

/** @param {string} service @returns {Promise<{ name: string, state: string }[]>} */
async function containers(service) {
  const r = await mustCompose(['ps', '-a', '--format', '{{.Name}} {{.State}}', service], { quiet: true });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [name, state] = l.split(' ');
      return { name, state };
    });
}

/** @param {string} name @param {string} format */
async function inspect(name, format) {
  return (await must('docker', ['inspect', '--format', format, name], { quiet: true })).stdout.trim();
}

/** @param {{ volumes: string[] }} before @returns {Promise<Record<string, string[]>>} */
async function leftovers(before) {
  const label = `label=com.docker.compose.project=${PROJECT}`;
  const list = async (/** @type {string[]} */ args) => (await must('docker', args, { quiet: true })).stdout.split('\n').filter(Boolean);
  const volumesNow = await list(['volume', 'ls', '-q']);
  return {
    containers: await list(['ps', '-a', '--filter', label, '--format', '{{.Names}}']),
    volumes: await list(['volume', 'ls', '-q', '--filter', label]),
    'volumes created during the run (anonymous included)': volumesNow.filter((v) => !before.volumes.includes(v)),
    networks: await list(['network', 'ls', '--filter', label, '--format', '{{.Name}}']),
    images: [
      ...(await list(['images', '-q', IMAGE])),
      ...(await list(['images', '-q', '--filter', label])),
      ...(await list(['images', '-q', '--filter', `reference=${PROJECT}*`])),
    ],
  };
}

async function main() {
  section('Docker and Compose');
  const version = await must('docker', ['compose', 'version', '--short']);
  log(`docker compose ${version.stdout.trim()}`);
  if (!/^v?2\./.test(version.stdout.trim())) fail('Compose v2 is required');
  const server = await must('docker', ['version', '--format', '{{.Server.Version}}'], { quiet: true });
  log(`docker engine ${server.stdout.trim()}`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  composeEnv.GATEHOUSE_PORT = String(port);
  log(`project ${PROJECT}, image ${IMAGE}, edge published on ${base}`);
  for (const v of ['NODE_BUILD_IMAGE', 'NODE_IMAGE', 'NATS_IMAGE']) log(`${v}=${process.env[v] ?? '(default)'}`);
  const before = { volumes: (await must('docker', ['volume', 'ls', '-q'], { quiet: true })).stdout.split('\n').filter(Boolean) };

  let ok = false;
  try {
    section('Build the image');
    const built = await compose(['build'], { timeoutMs: BUILD_TIMEOUT });
    writeFileSync(join(work, 'build.log'), built.stdout + built.stderr);
    if (built.code !== 0) fail(`build failed (exit ${built.code}):\n${(built.stdout + built.stderr).split('\n').slice(-40).join('\n')}`);
    const steps = new Set(
      (built.stdout + built.stderr).split('\n').filter((l) => /^#\d+ \[[^\]]+\] (FROM|RUN|COPY)|^Step \d+\/\d+ : /.test(l)),
    );
    for (const l of steps) log(`  ${l.replace(/^#\d+ /, '').slice(0, 150)}`);
    const size = await inspect(IMAGE, '{{.Size}}');
    log(`built ${IMAGE}: ${(Number(size) / 1e6).toFixed(0)} MB`);
    // Run inside the runtime image: it fails (exit 1) when a compiler is on PATH or it is not user node.
    log(`$ docker run --rm --entrypoint node ${IMAGE} -e '<look for cc, gcc, g++, make, python3 on PATH; open a better-sqlite3 database>'`);
    const probe = await run(
      'docker',
      [
        'run',
        '--rm',
        '--entrypoint',
        'node',
        IMAGE,
        '-e',
        `const fs = require('fs'), path = require('path');
       const toolchain = ['cc', 'gcc', 'g++', 'make', 'python3'].filter((t) => process.env.PATH.split(':').some((d) => fs.existsSync(path.join(d, t))));
       const db = new (require('better-sqlite3'))(':memory:');
       const user = require('os').userInfo().username;
       console.log(JSON.stringify({ user, toolchain, sqlite: db.prepare('select sqlite_version() v').get().v,
         dataDir: process.env.GATEHOUSE_DATA_DIR, betterSqlite3Build: fs.readdirSync('node_modules/better-sqlite3/build/Release') }));
       process.exit(toolchain.length === 0 && user === 'node' ? 0 : 1);`,
      ],
      { quiet: true },
    );
    log(`runtime image: ${(probe.stdout + probe.stderr).trim()}`);
    if (probe.code !== 0) fail('the runtime image has a toolchain on PATH, does not run as node, or cannot load better-sqlite3');
    const volumesOfImage = await inspect(IMAGE, '{{json .Config.Volumes}}');
    if (volumesOfImage !== 'null' && volumesOfImage !== '{}') fail(`the image declares VOLUMEs: ${volumesOfImage}`);
    log('ok: no compiler in the runtime stage, better-sqlite3 loads, user node, no VOLUME in the image');

    section('Start the stack');
    await mustCompose(['up', '-d', '--build'], { timeoutMs: BUILD_TIMEOUT });
    for (const c of await containers('')) log(`  ${c.name}: ${c.state}`);

    section("Wait for the edge's /ready and healthcheck");
    await waitFor('/ready', 90_000, async () => {
      try {
        const r = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(3000) });
        return r.status === 200 ? true : `HTTP ${r.status} ${(await r.text()).slice(0, 120)}`;
      } catch (err) {
        const e = /** @type {Error & { cause?: { code?: string } }} */ (err);
        return e.cause?.code ?? e.message;
      }
    });
    log('ok: /ready answered 200');
    const [edge] = await containers('edge');
    await waitFor('edge healthcheck', 60_000, async () => {
      const h = await inspect(edge.name, '{{.State.Health.Status}}');
      return h === 'healthy' ? true : h;
    });
    log(`ok: ${edge.name} is healthy`);

    section('An MCP call through the edge (2 runners)');
    const first = await echoSession(base, 'hello through compose');
    log(`ok: tools/call echo -> ${JSON.stringify(first.text)} (session ${first.sessionId})`);

    section('Scale to 3 runners, several sessions at once');
    await mustCompose(['up', '-d', '--no-build', '--scale', 'runner=3'], { timeoutMs: 180_000 });
    await waitFor('3 running runners', 60_000, async () => {
      const rs = await containers('runner');
      const running = rs.filter((c) => c.state === 'running').length;
      return running === 3 && rs.length === 3 ? true : rs.map((c) => `${c.name}=${c.state}`).join(' ');
    });
    const runners = await containers('runner');
    log(`runners: ${runners.map((c) => c.name).join(', ')}`);
    // /ready needs one runner per group; wait until each runner has said it is subscribed.
    await waitFor('every runner to log "runner ready"', 60_000, async () => {
      const waiting = [];
      for (const c of runners) {
        const l = await must('docker', ['logs', c.name], { quiet: true });
        if (!(l.stdout + l.stderr).includes('"runner ready"')) waiting.push(c.name);
      }
      return waiting.length === 0 ? true : `not yet: ${waiting.join(', ')}`;
    });
    log('ok: 3 runners ready');
    const results = await Promise.all(Array.from({ length: 9 }, (_, i) => echoSession(base, `session ${i + 1}`)));
    for (const r of results) log(`  ok: ${JSON.stringify(r.text)} (session ${r.sessionId})`);
    /** @type {Record<string, number>} */
    const ended = {};
    await waitFor('the runners to log the 10 ended sessions', 15_000, async () => {
      for (const c of runners) {
        const l = await must('docker', ['logs', c.name], { quiet: true });
        ended[c.name] = (l.stdout + l.stderr).split('\n').filter((line) => line.includes('"session ended"')).length;
      }
      const total = Object.values(ended).reduce((a, b) => a + b, 0);
      return total >= 10 ? true : `${total} so far`;
    }).catch((/** @type {Error} */ err) => log(`  note: ${err.message}`));
    log(`sessions ended per runner (from their logs): ${JSON.stringify(ended)}`);
    const served = Object.values(ended).filter((n) => n > 0).length;
    log(
      served > 1
        ? `ok: ${served} runners served sessions`
        : `note: only ${served} runner served sessions (NATS queue groups pick at random)`,
    );

    section('The audit trail: runners over NATS to auth, read with `gatehouse audit` in the auth container');
    /** @type {Array<Record<string, unknown>>} */
    let audited = [];
    await waitFor('10 echo calls in the audit trail', 30_000, async () => {
      const r = await mustCompose(
        [
          'exec',
          '-T',
          'auth',
          'node',
          'dist/apps/gateway/src/main.js',
          'audit',
          '--config',
          '/config/config.json',
          '--since',
          '1h',
          '--format',
          'jsonl',
        ],
        { quiet: true },
      );
      audited = r.stdout
        .split('\n')
        .filter((line) => line !== '')
        .map(jsonObject)
        .filter((rec) => rec.kind === 'tools/call' && rec.name === 'echo' && rec.outcome === 'ok');
      return audited.length >= 10 ? true : `${audited.length} so far`;
    });
    const who = [...new Set(audited.map((rec) => rec.sub))];
    if (audited.some((rec) => 'arguments' in rec)) fail('arguments were recorded although proxy.audit.arguments is off');
    log(`ok: ${audited.length} tools/call echo records, all ok, by ${who.join(', ')}, no arguments`);

    section('Without GATEHOUSE_TOKEN, `docker compose up` fails with a message');
    const noTokenEnv = { ...composeEnv };
    delete noTokenEnv.GATEHOUSE_TOKEN;
    const refused = await run('docker', ['compose', '-p', PROJECT, 'up', '-d', '--no-build'], { env: noTokenEnv, timeoutMs: 60_000 });
    log(`exit ${refused.code}; stderr: ${refused.stderr.trim()}`);
    if (refused.code === 0) fail('`docker compose up` without GATEHOUSE_TOKEN succeeded');
    if (!refused.stderr.includes('GATEHOUSE_TOKEN')) fail('the error does not name GATEHOUSE_TOKEN');
    log('ok: refused before touching anything');

    section('A service whose variable is empty exits with the message and stops retrying');
    const override = join(work, 'empty-token.yml');
    writeFileSync(override, "services:\n  runner:\n    environment:\n      GATEHOUSE_TOKEN: ''\n");
    await mustCompose(
      ['-f', 'docker-compose.yml', '-f', override, 'up', '-d', '--no-build', '--no-deps', '--scale', 'runner=1', 'runner'],
      {
        timeoutMs: 120_000,
      },
    );
    const [bad] = await containers('runner');
    await waitFor(`${bad.name} to give up`, 90_000, async () => {
      const s = await inspect(bad.name, '{{.State.Status}} restarts={{.RestartCount}} exit={{.State.ExitCode}}');
      return s.startsWith('exited') ? true : s;
    });
    const final = await inspect(
      bad.name,
      '{{.State.Status}} restarts={{.RestartCount}} exit={{.State.ExitCode}} policy={{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}',
    );
    log(`${bad.name}: ${final}`);
    const badLogs = await must('docker', ['logs', bad.name], { quiet: true });
    const message = (badLogs.stdout + badLogs.stderr).split('\n').filter((l) => l.includes('GATEHOUSE_TOKEN'));
    log(`its log (${message.length} lines name GATEHOUSE_TOKEN, one per start): ${message[0] ?? '(none)'}`);
    if (message.length === 0) fail('the exited runner did not log the missing variable');
    if (!final.includes('restarts=3')) fail(`expected 3 restarts, then exited: ${final}`);
    log('ok: exited with the message, restarted 3 times, stopped');
    ok = true;
  } catch (err) {
    console.log(`\n[${elapsed()}] FAILED: ${err instanceof Failure ? err.message : err.stack}`);
    const logs = await compose(['logs', '--no-color', '--tail', '40'], { quiet: true, timeoutMs: 30_000 }).catch(() => undefined);
    if (logs) console.log(`--- docker compose logs (last 40 lines of each service) ---\n${logs.stdout}${logs.stderr}---`);
    if (existsSync(join(work, 'build.log'))) console.log(`build log: ${join(work, 'build.log')}`);
  } finally {
    section('Tear down');
    const down = await compose(['--profile', 'all-in-one', 'down', '-v', '--rmi', 'local', '--remove-orphans', '--timeout', '10'], {
      timeoutMs: 120_000,
    });
    if (down.code !== 0) {
      ok = false;
      log(`down failed (exit ${down.code}): ${down.stderr}`);
    }
    const rmi = await run('docker', ['image', 'rm', IMAGE], { timeoutMs: 60_000 });
    if (rmi.code !== 0 && !/No such image/.test(rmi.stderr)) {
      ok = false;
      log(`image rm failed: ${rmi.stderr.trim()}`);
    }
    const left = await leftovers(before);
    for (const [what, items] of Object.entries(left)) {
      log(`${items.length === 0 ? 'ok' : 'LEFT'}: ${what}: ${items.length === 0 ? 'none' : items.join(', ')}`);
      if (items.length > 0) ok = false;
    }
    if (ok) rmSync(work, { recursive: true, force: true });
  }
  console.log(`\n[${elapsed()}] ${ok ? 'PASS' : 'FAIL'}: docker compose smoke test`);
  process.exitCode = ok ? 0 : 1;
}

// fetch's AbortSignal.timeout timers do not keep Node alive: hold the event loop open until main ends,
// so a request still connecting cannot end the process (exit 13) before teardown.
const keepAlive = setInterval(() => {}, 1000);
try {
  await main();
} finally {
  clearInterval(keepAlive);
}
