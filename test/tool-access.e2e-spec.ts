import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startOAuthTopology, TestOAuthProvider, type OAuthTopology, type TopologyKind } from '#testing';
import { EVERYTHING } from './support/gateway-config.js';
import { bearer, connectStreamable, textOf } from './support/mcp-clients.js';
import { CLIENT_REDIRECT, connectWithOAuth } from './support/oauth-gateway.js';

const USERS = {
  ann: { sub: 'ann', email: 'ann@example.com', email_verified: true, groups: ['eng', 'staff'] },
  sam: { sub: 'sam', email: 'sam@example.com', email_verified: true, groups: ['support'] },
};
const SERVICE_TOKEN = 'tool-access-service-token-0123456789';

/** server-everything with its get-* tools for eng, echo for eng and support; a static token beside OAuth. */
const mcpServers = {
  everything: {
    transportType: 'stdio',
    command: process.execPath,
    args: [EVERYTHING, 'stdio'],
    options: {
      toolAccess: [
        { tools: ['get-*'], groups: ['eng'] },
        { tools: ['echo'], groups: ['eng', 'support'] },
      ],
    },
    serviceAuths: [{ type: 'bearer', tokens: [SERVICE_TOKEN] }],
  },
};

describe.each<TopologyKind>(['all-in-one', 'distributed'])('tool access by group (%s)', (kind) => {
  let gw: OAuthTopology;

  beforeAll(async () => {
    gw = await startOAuthTopology(kind, { users: USERS, mcpServers });
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
  });

  const login = async (user: keyof typeof USERS) => {
    gw.idp.loginAs(user);
    return connectWithOAuth(gw, new TestOAuthProvider({ redirectUrl: CLIENT_REDIRECT }));
  };

  it('lists and runs the restricted tools for a user in their group', async () => {
    const client = await login('ann');
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['get-sum', 'get-env', 'echo', 'trigger-long-running-operation']));
    expect(textOf(await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } }))).toContain('The sum of 2 and 3 is 5');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'ann' } }))).toContain('ann');
    await client.close();
  });

  it('hides them from a user outside the group and refuses a call by name', async () => {
    const client = await login('sam');
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('echo');
    expect(names).toContain('trigger-long-running-operation');
    expect(names.filter((name) => name.startsWith('get-'))).toEqual([]);
    const call = client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
    await expect(call).rejects.toBeInstanceOf(McpError);
    await expect(call).rejects.toThrow('Tool get-sum is not available');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'sam' } }))).toContain('sam');
    await client.close();
  });

  it('treats a caller with a static bearer token as in no group', async () => {
    const { client } = await connectStreamable(`${gw.baseURL}/everything/mcp`, bearer(SERVICE_TOKEN));
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('trigger-long-running-operation');
    expect(names.filter((name) => name === 'echo' || name.startsWith('get-'))).toEqual([]);
    await expect(client.callTool({ name: 'echo', arguments: { message: 'x' } })).rejects.toThrow('Tool echo is not available');
    await client.close();
  });
});
