import { CappedOutput, TailLines } from './tool-output.js';

describe('CappedOutput', () => {
  it('keeps everything under the cap, exactly', () => {
    const output = new CappedOutput(16);
    output.push(Buffer.from('héllo '));
    output.push(Buffer.from('wörld'));
    expect(output.text()).toBe('héllo wörld');
    expect(output.cutBytes).toBe(0);
  });

  it('keeps the first maxBytes and counts the rest, across chunks', () => {
    const output = new CappedOutput(10);
    output.push(Buffer.from('0123456'));
    output.push(Buffer.from('789abc'));
    output.push(Buffer.from('def'));
    expect(output.text()).toBe('0123456789');
    expect(output.cutBytes).toBe(6);
  });

  it('leaves out a character the cut splits rather than mangling it', () => {
    const output = new CappedOutput(5);
    output.push(Buffer.from('abcd€')); // € is 3 bytes: the cut falls inside it
    expect(output.text()).toBe('abcd');
    expect(output.cutBytes).toBe(2);
  });
});

describe('TailLines', () => {
  it('keeps the last characters of whole lines, marking cut lines', () => {
    const tail = new TailLines(20);
    for (let i = 1; i <= 10; i++) tail.push(`line ${i}`, 0);
    expect(tail.text()).toBe('…ine 8\nline 9\nline 10');
    const marked = new TailLines(40);
    marked.push('first', 0);
    marked.push('long', 4096);
    expect(marked.text()).toBe('first\nlong … [4096 more bytes cut]');
  });

  it('is empty when nothing was written', () => {
    expect(new TailLines(20).text()).toBe('');
  });
});
