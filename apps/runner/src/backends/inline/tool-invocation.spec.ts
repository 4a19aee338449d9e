import { withUserToken, type InlineToolConfig } from '#config';
import { renderInvocation } from './tool-invocation.js';

const tool = (args: string[], env: Record<string, string> = {}): InlineToolConfig => ({
  name: 'probe',
  inputSchema: { type: 'object' },
  command: 'probe',
  args,
  env,
  timeoutMs: 1000,
  maxOutputBytes: 1024,
});

describe('renderInvocation', () => {
  it("never templates a person's token filled in by withUserToken, even one that looks like a placeholder", () => {
    const server = {
      name: 'ops',
      timeoutMs: 1000,
      serviceAuths: [],
      runnerGroup: 'default',
      transportType: 'inline' as const,
      tools: [tool(['{{message}}', ''], { KEY: '' })],
      userToken: {
        slots: [
          { path: ['tools', 0, 'args', 1], template: '--key={{token}}' },
          { path: ['tools', 0, 'env', 'KEY'], template: '{{token}}' },
        ],
      },
    };
    const filled = withUserToken(server, 'tok-{{message}}').tools[0];
    if (!filled) throw new Error('no tool');
    expect(renderInvocation(filled, { message: 'hello' })).toEqual({
      args: ['hello', '--key=tok-{{message}}'],
      env: { KEY: 'tok-{{message}}' },
    });
  });

  it('puts a string argument into its element verbatim, shell metacharacters and all', () => {
    const hostile = '; rm -rf / $(id) `id` "quoted" \'single\' \n\r\t|&<>*?~ {{other}}';
    expect(renderInvocation(tool(['--text', '{{text}}', 'x{{text}}y']), { text: hostile, other: 'NO' })).toEqual({
      args: ['--text', hostile, `x${hostile}y`],
      env: {},
    });
  });

  it('writes anything but a string as JSON', () => {
    const args = { n: 3, f: 1.5, yes: true, none: null, list: [1, 'a'], obj: { k: 'v' } };
    const rendered = renderInvocation(tool(['{{n}}', '{{f}}', '{{yes}}', '{{none}}', '{{list}}', '{{obj}}']), args);
    expect(rendered).toEqual({ args: ['3', '1.5', 'true', 'null', '[1,"a"]', '{"k":"v"}'], env: {} });
  });

  it('replaces a placeholder of an absent argument by "", keeping its element', () => {
    expect(renderInvocation(tool(['-n', '{{limit}}', 'end']), {})).toEqual({ args: ['-n', '', 'end'], env: {} });
  });

  it('templates env values, not names, and several placeholders in one value', () => {
    const rendered = renderInvocation(tool([], { QUERY: '{{a}}:{{b}}', '{{a}}': 'literal' }), { a: 'one two', b: 2 });
    expect(rendered).toEqual({ args: [], env: { QUERY: 'one two:2', '{{a}}': 'literal' } });
  });

  it('leaves text that is not a placeholder alone, and reads only own properties', () => {
    const rendered = renderInvocation(tool(['{{ spaced }}', '{{1x}}', '{x}', '{{constructor}}']), {});
    expect(rendered).toEqual({ args: ['{{ spaced }}', '{{1x}}', '{x}', ''], env: {} });
  });

  it('refuses a string with a NUL character, which argv and environ cannot hold', () => {
    expect(renderInvocation(tool(['{{a}}'], { B: '{{b}}' }), { a: 'a\0b', b: 'fine' })).toEqual({
      refused: 'Invalid arguments for tool probe: "a" contains a NUL character, which no program can be given',
    });
    // As JSON, a NUL inside an object is the six characters \u0000, which is fine.
    expect(renderInvocation(tool(['{{o}}']), { o: { k: '\0' } })).toEqual({ args: ['{"k":"\\u0000"}'], env: {} });
  });
});
