import { fileURLToPath } from 'node:url';
import { compileToolInputSchema, loadConfig, parseConfig, type InlineServerConfig, type LoadResult } from './index.js';

const withInline = (inline: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
  proxy: { baseURL: 'https://mcp.example.com' },
  mcpServers: { ops: { transportType: 'inline', inline, serviceAuths: [{ type: 'bearer', tokens: [{ $env: 'TOKEN' }] }], ...extra } },
});

const tool = (fields: Record<string, unknown> = {}) => ({ name: 'uptime', command: 'uptime', ...fields });

function loaded(result: LoadResult): { server: InlineServerConfig; warnings: string[] } {
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const server = result.config.servers.ops;
  if (server?.transportType !== 'inline') throw new Error('expected an inline server');
  return { server, warnings: result.warnings };
}

function problemsOf(result: LoadResult) {
  if (result.ok) throw new Error('expected problems, got a config');
  return result.problems;
}

describe('inline servers in the config', () => {
  it('resolves tools with their defaults, $env values and mcp-front durations', () => {
    const inline = {
      description: 'Ops helpers',
      tools: [
        tool(),
        tool({
          name: 'grep',
          description: 'Search a file',
          inputSchema: { type: 'object', properties: { pattern: { type: 'string' } }, required: ['pattern'] },
          command: 'grep',
          args: ['-e', '{{pattern}}', { $env: 'LOG_FILE' }],
          env: { LC_ALL: 'C', KEY: { $env: 'API_KEY' } },
          timeout: '5s',
          maxOutputBytes: 4096,
        }),
      ],
    };
    const { server, warnings } = loaded(parseConfig(withInline(inline), { TOKEN: 't', LOG_FILE: '/var/log/app.log', API_KEY: 'k' }));
    expect(warnings).toEqual([]);
    expect(server.description).toBe('Ops helpers');
    expect(server.tools).toEqual([
      { name: 'uptime', inputSchema: { type: 'object' }, command: 'uptime', args: [], env: {}, timeoutMs: 30_000, maxOutputBytes: 1048576 },
      {
        name: 'grep',
        description: 'Search a file',
        inputSchema: { type: 'object', properties: { pattern: { type: 'string' } }, required: ['pattern'] },
        command: 'grep',
        args: ['-e', '{{pattern}}', '/var/log/app.log'],
        env: { LC_ALL: 'C', KEY: 'k' },
        timeoutMs: 5000,
        maxOutputBytes: 4096,
      },
    ]);
  });

  it('loads examples/inline.json without warnings', () => {
    const example = fileURLToPath(new URL('../../../examples/inline.json', import.meta.url));
    const { server, warnings } = loaded(loadConfig(example, { GATEHOUSE_TOKEN: 't' }));
    expect(warnings).toEqual([]);
    expect(server.tools.map((t) => t.name)).toEqual(['disk_usage', 'free_space', 'clock']);
  });

  it('serves a schema without "type" as an object schema, as MCP requires', () => {
    const { server } = loaded(
      parseConfig(withInline({ tools: [tool({ inputSchema: { properties: { n: { type: 'integer' } } } })] }), { TOKEN: 't' }),
    );
    expect(server.tools[0]?.inputSchema).toEqual({ type: 'object', properties: { n: { type: 'integer' } } });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'a misspelt type',
      { type: 'object', properties: { n: { type: 'integr' } } },
      /^not a valid JSON Schema \(2020-12\): inputSchema\/properties\/n\/type must be/,
    ],
    ['a $ref to nowhere', { type: 'object', properties: { n: { $ref: '#/$defs/missing' } } }, /can't resolve reference #\/\$defs\/missing/],
    ['required that is not a list', { type: 'object', required: 'n' }, /inputSchema\/required must be array/],
    ['a top-level type other than object', { type: 'string' }, /^expected "type": "object"/],
    ['an unknown $schema', { $schema: 'http://json-schema.org/draft-04/schema#' }, /^unsupported \$schema .*draft-04.*: use 2020-12/],
    ['a malformed $id', { $id: 5 }, /^not a valid JSON Schema/],
  ])('refuses %s with the inputSchema path', (_name, inputSchema, message) => {
    const problems = problemsOf(parseConfig(withInline({ tools: [tool(), tool({ name: 'bad', inputSchema })] }), { TOKEN: 't' }));
    expect(problems).toEqual([{ path: 'mcpServers.ops.inline.tools[1].inputSchema', message: expect.stringMatching(message) as string }]);
  });

  it('accepts draft-07 and 2019-09 schemas by their $schema, and one $id in two tools', () => {
    const schema = (dialect: string) => ({ $schema: dialect, $id: 'https://example.com/args', type: 'object', definitions: {} });
    const tools = [
      tool({ name: 'a', inputSchema: schema('http://json-schema.org/draft-07/schema#') }),
      tool({ name: 'b', inputSchema: schema('https://json-schema.org/draft/2019-09/schema') }),
      tool({ name: 'c', inputSchema: schema('http://json-schema.org/draft-07/schema') }),
    ];
    const config = withInline({ tools });
    loaded(parseConfig(config, { TOKEN: 't' }));
    // Loading the same file again (as tests and `serve` do) must not clash with what the first load compiled.
    expect(loaded(parseConfig(config, { TOKEN: 't' })).server.tools).toHaveLength(3);
  });

  it('warns about unknown schema keywords and placeholders that name no property', () => {
    const inputSchema = { type: 'object', properties: { path: { type: 'string' } }, requird: ['path'] };
    const args = ['{{path}}', '{{pth}}', '{{ not a placeholder }}'];
    const { warnings } = loaded(
      parseConfig(withInline({ tools: [tool({ inputSchema, args, env: { MODE: '{{mode}}' } })] }), { TOKEN: 't' }),
    );
    expect(warnings).toEqual([
      'mcpServers.ops.inline.tools[0].inputSchema: unknown keyword: "requird" (ignored)',
      'mcpServers.ops.inline.tools[0].args[1]: {{pth}} names no property of inputSchema, so it is always replaced by ""',
      'mcpServers.ops.inline.tools[0].env.MODE: {{mode}} names no property of inputSchema, so it is always replaced by ""',
    ]);
  });

  it('warns about a server without tools', () => {
    expect(loaded(parseConfig(withInline({ tools: [] }), { TOKEN: 't' })).warnings).toEqual([
      'mcpServers.ops.inline.tools: no tools, so this server offers nothing',
    ]);
  });

  it('refuses bad and duplicate tool names, a bad maxOutputBytes and a missing inline section', () => {
    const tools = [tool({ name: 'has space' }), tool(), tool(), tool({ name: 'big', maxOutputBytes: 0 })];
    expect(problemsOf(parseConfig(withInline({ tools }), { TOKEN: 't' }))).toEqual([
      { path: 'mcpServers.ops.inline.tools[3].maxOutputBytes', message: expect.stringMatching(/>0|positive/) as string },
    ]);
    expect(problemsOf(parseConfig(withInline({ tools: tools.slice(0, 3) }), { TOKEN: 't' }))).toEqual([
      { path: 'mcpServers.ops.inline.tools[0].name', message: 'expected 1 to 64 letters, digits, "_" or "-"' },
      { path: 'mcpServers.ops.inline.tools[2].name', message: 'duplicate tool name "uptime"' },
    ]);
    const noInline = withInline({}, { inline: undefined });
    expect(problemsOf(parseConfig(JSON.parse(JSON.stringify(noInline)), { TOKEN: 't' }))).toEqual([
      { path: 'mcpServers.ops.inline', message: 'required when transportType is "inline"' },
    ]);
  });

  it('refuses an empty command and environment names a program cannot be given', () => {
    const problems = problemsOf(
      parseConfig(withInline({ tools: [tool({ command: '', env: { 'A=B': '1', '': '2', OK: '3' } })] }), { TOKEN: 't' }),
    );
    expect(problems).toEqual([
      { path: 'mcpServers.ops.inline.tools[0].command', message: 'expected a command' },
      { path: 'mcpServers.ops.inline.tools[0].env["A=B"]', message: 'expected a variable name without "=" or NUL' },
      { path: 'mcpServers.ops.inline.tools[0].env[""]', message: 'expected a variable name without "=" or NUL' },
    ]);
  });

  it('reports an unset $env in a tool with its path', () => {
    const problems = problemsOf(parseConfig(withInline({ tools: [tool({ env: { KEY: { $env: 'UNSET_KEY' } } })] }), { TOKEN: 't' }));
    expect(problems).toEqual([{ path: 'mcpServers.ops.inline.tools[0].env.KEY', message: 'environment variable UNSET_KEY is not set' }]);
  });
});

describe('compileToolInputSchema', () => {
  const compiled = compileToolInputSchema({
    type: 'object',
    properties: {
      count: { type: 'integer', minimum: 1 },
      mode: { type: 'string', default: 'fast' },
      email: { type: 'string', format: 'email' },
    },
    required: ['count'],
    additionalProperties: false,
  });
  if (!compiled.ok) throw new Error(compiled.message);

  it('accepts valid arguments and fills in defaults', () => {
    const args: Record<string, unknown> = { count: 2 };
    expect(compiled.check(args)).toBeUndefined();
    expect(args).toEqual({ count: 2, mode: 'fast' });
  });

  it('lists every violation with its path', () => {
    expect(compiled.check({ count: 'two', extra: true })).toBe(
      'arguments must NOT have additional properties ("extra"); arguments/count must be integer',
    );
    expect(compiled.check({})).toBe("arguments must have required property 'count'");
  });

  it('treats format as an annotation, as JSON Schema 2020-12 does by default', () => {
    expect(compiled.check({ count: 1, email: 'not an address' })).toBeUndefined();
  });

  it('lists at most ten violations and counts the rest', () => {
    const properties = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`p${i}`, { type: 'integer' }]));
    const many = compileToolInputSchema({ type: 'object', properties });
    if (!many.ok) throw new Error(many.message);
    const message = many.check(Object.fromEntries(Object.keys(properties).map((key) => [key, 'x']))) ?? '';
    expect(message.split('; ')).toHaveLength(11);
    expect(message).toMatch(/; and 5 more$/);
  });
});
