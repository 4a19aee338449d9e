/**
 * A minimal XML parser for specs: enough of XML 1.0 to prove a generated SVG is well-formed (one root, nested and
 * matching tags, quoted and unique attributes, only the predefined or numeric entities) and to read it back as a tree.
 */

export interface XmlElement {
  name: string;
  attributes: Map<string, string>;
  children: (XmlElement | string)[];
}

const NAME = /[A-Za-z_:][\w.:-]*/y;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The document's root element; throws with the offset of the first thing that is not well-formed. */
export function parseXml(text: string): XmlElement {
  const reader = new Reader(text);
  reader.skipProlog();
  const root = reader.element();
  reader.skipMisc();
  if (!reader.done()) reader.fail('content after the root element');
  return root;
}

/** Every element in document order, the root first. */
export function elements(root: XmlElement): XmlElement[] {
  return [root, ...root.children.flatMap((c) => (typeof c === 'string' ? [] : elements(c)))];
}

/** The decoded text inside an element and its descendants. */
export function textOf(element: XmlElement): string {
  return element.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

class Reader {
  private at = 0;

  constructor(private readonly text: string) {}

  done(): boolean {
    return this.at >= this.text.length;
  }

  fail(what: string): never {
    throw new Error(`not well-formed XML at offset ${this.at}: ${what}`);
  }

  skipProlog(): void {
    if (this.text.startsWith('<?xml', this.at)) this.skipPast('?>');
    this.skipMisc();
  }

  skipMisc(): void {
    for (;;) {
      this.at += /^\s*/.exec(this.text.slice(this.at))?.[0].length ?? 0;
      if (!this.text.startsWith('<!--', this.at)) return;
      this.skipPast('-->');
    }
  }

  element(): XmlElement {
    this.expect('<');
    const name = this.name();
    const attributes = this.attributes();
    if (this.text.startsWith('/>', this.at)) {
      this.at += 2;
      return { name, attributes, children: [] };
    }
    this.expect('>');
    const children = this.content();
    this.expect('</');
    if (this.name() !== name) this.fail(`</${name}> expected`);
    this.at += /^\s*/.exec(this.text.slice(this.at))?.[0].length ?? 0;
    this.expect('>');
    return { name, attributes, children };
  }

  private content(): (XmlElement | string)[] {
    const children: (XmlElement | string)[] = [];
    while (!this.text.startsWith('</', this.at)) {
      if (this.done()) this.fail('unclosed element');
      if (this.text.startsWith('<!--', this.at)) this.skipPast('-->');
      else if (this.text[this.at] === '<') children.push(this.element());
      else children.push(this.characters('<'));
    }
    return children;
  }

  private attributes(): Map<string, string> {
    const attributes = new Map<string, string>();
    while (/^\s/.test(this.text.slice(this.at, this.at + 1))) {
      this.at += /^\s*/.exec(this.text.slice(this.at))?.[0].length ?? 0;
      if (this.text[this.at] === '>' || this.text.startsWith('/>', this.at)) break;
      const name = this.name();
      if (attributes.has(name)) this.fail(`attribute ${name} repeated`);
      this.expect('=');
      const quote = this.text[this.at];
      if (quote !== '"' && quote !== "'") this.fail(`attribute ${name} is not quoted`);
      this.at += 1;
      const value = this.characters(quote);
      this.expect(quote);
      attributes.set(name, value);
    }
    return attributes;
  }

  /** Text up to `stop`, entities decoded; a raw "<" or a bare "&" is an error. */
  private characters(stop: string): string {
    let decoded = '';
    while (!this.done() && this.text[this.at] !== stop) {
      const char = this.text[this.at] ?? '';
      if (char === '<') this.fail('raw "<" in text or attribute');
      if (char === '&') decoded += this.entity();
      else {
        decoded += char;
        this.at += 1;
      }
    }
    return decoded;
  }

  private entity(): string {
    const match = /^&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/.exec(this.text.slice(this.at));
    const reference = match?.[1];
    if (match === null || reference === undefined) return this.fail('bare "&"');
    this.at += match[0].length;
    if (reference.startsWith('#x')) return String.fromCodePoint(parseInt(reference.slice(2), 16));
    if (reference.startsWith('#')) return String.fromCodePoint(parseInt(reference.slice(1), 10));
    return ENTITIES[reference] ?? this.fail(`undefined entity &${reference};`);
  }

  private name(): string {
    NAME.lastIndex = this.at;
    const match = NAME.exec(this.text);
    if (match === null) return this.fail('name expected');
    this.at += match[0].length;
    return match[0];
  }

  private expect(literal: string): void {
    if (!this.text.startsWith(literal, this.at)) this.fail(`"${literal}" expected`);
    this.at += literal.length;
  }

  private skipPast(end: string): void {
    const index = this.text.indexOf(end, this.at);
    if (index === -1) this.fail(`"${end}" never comes`);
    this.at = index + end.length;
  }
}
