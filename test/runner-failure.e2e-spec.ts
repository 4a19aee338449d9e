import { rmSync } from 'node:fs';
import { childPids, eventually, isAlive, startTopology, type Topology } from '#testing';
import { GATEWAY_ENV, TOKENS, writeGatewayConfig } from './support/gateway-config.js';
import { bearer, connectStreamable, textOf } from './support/mcp-clients.js';

describe('a runner killed mid-call (distributed)', () => {
  let topology: Topology;
  let configDir: string;
  const orphans: number[] = [];

  beforeAll(async () => {
    const config = writeGatewayConfig({ maxPerUser: 4, runnerGroup: `kill${Date.now().toString(36)}` });
    configDir = config.dir;
    topology = await startTopology('distributed', config.path, { env: GATEWAY_ENV, runnerCount: 2 });
  }, 60000);

  afterAll(async () => {
    // Its supervisor ends a SIGKILLed runner's backends; should it fail, this suite leaves nothing behind.
    for (const pid of orphans.filter(isAlive)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await topology?.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('fails the call within 2 s, and a new session works on the other runner', async () => {
    const url = `${topology.url}/everything/mcp`;
    const first = await connectStreamable(url, bearer(TOKENS.alice));
    const owner = topology.runners.find((r) => childPids(r.pid).length > 0);
    if (!owner) throw new Error('no runner holds the session');
    orphans.push(...childPids(owner.pid));

    const call = first.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 } });
    const outcome = call.then(
      () => 'resolved',
      (err: unknown) => String(err),
    );
    await new Promise((r) => setTimeout(r, 300));
    const killedAt = Date.now();
    owner.child.kill('SIGKILL');
    const result = await outcome;
    const elapsed = Date.now() - killedAt;
    expect(result).toMatch(/Session ended|session/i);
    expect(elapsed).toBeLessThan(2000);
    await first.client.close();
    await eventually(() => !orphans.some(isAlive), "the killed runner's backend outlived it", 5000);

    const second = await connectStreamable(url, bearer(TOKENS.alice));
    expect(textOf(await second.client.callTool({ name: 'echo', arguments: { message: 'still here' } }))).toContain('still here');
    await second.transport.terminateSession();
    await second.client.close();
  });

  it('is not ready once no runner answers', async () => {
    expect((await fetch(`${topology.url}/ready`)).status).toBe(200);
    await Promise.all(topology.runners.map((r) => r.stop()));
    const res = await fetch(`${topology.url}/ready`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not ready', reason: expect.stringMatching(/^no runner of group kill\w+ is answering$/) });
    expect((await fetch(`${topology.url}/health`)).status).toBe(200);
  });
});
