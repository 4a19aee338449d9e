import { functionCosts, JitNames } from './callgrind.js';

const perfMap = ['1000 100 JS:*handler file:///work/main/dist/apps/edge/src/a.js:1:1', '2000 10 JS:*parse node:internal/x:2:2', ''].join(
  '\n',
);

// Callgrind's format as valgrind 3.19 writes it: names compressed to ids after their first use,
// positions relative to the line before, and the line after `calls=` the call's cost.
const dump = [
  '# callgrind format',
  'version: 1',
  'positions: line',
  'events: Ir',
  'summary: 457',
  '',
  'ob=(1) /usr/bin/node',
  'fl=(1) ???',
  'fn=(1) 0x0000000000001010',
  '0 60',
  '+2 40',
  'cfn=(2) Builtins_JsonStringify',
  'calls=2 0',
  '0 300',
  'cfn=(1)',
  'calls=1 0',
  '-1 50',
  '',
  'fn=(2)',
  '0 300',
  '',
  "fn=(3) 0x0000000000002004'2",
  '* 7',
  'fn=(4) 0x0000000000009000',
  '0 50',
  '',
  'totals: 457',
].join('\n');

describe('callgrind dumps', () => {
  const names = new JitNames(perfMap);

  it('names an address inside a compiled function by the perf map, and leaves any other as it is', () => {
    expect(names.at(0x1000)).toBe('JS:*handler file:///work/main/dist/apps/edge/src/a.js:1:1');
    expect(names.at(0x10ff)).toBe('JS:*handler file:///work/main/dist/apps/edge/src/a.js:1:1');
    expect(names.at(0x1100)).toBeUndefined();
    expect(names.at(0xfff)).toBeUndefined();
    expect(names.label("0x0000000000002004'2")).toBe('JS:*parse node:internal/x:2:2');
    expect(names.label("Builtins_JsonStringify'2")).toBe('Builtins_JsonStringify');
  });

  it("counts each function's own instructions, with its callees' its inclusive ones, and its callers'", () => {
    const costs = functionCosts(dump, names);
    const handler = 'JS:*handler file:///work/main/dist/apps/edge/src/a.js:1:1';
    expect(Object.fromEntries(costs)).toEqual({
      [handler]: { self: 100, inclusive: 400, callers: new Map() },
      // Who called it, and what those calls cost: the handler's call to itself is no caller.
      Builtins_JsonStringify: { self: 300, inclusive: 300, callers: new Map([[handler, 300]]) },
      'JS:*parse node:internal/x:2:2': { self: 7, inclusive: 7, callers: new Map() },
      '0x0000000000009000': { self: 50, inclusive: 50, callers: new Map() },
    });
    // Every instruction is some function's own: the dump's total.
    expect([...costs.values()].reduce((sum, cost) => sum + cost.self, 0)).toBe(457);
  });
});
