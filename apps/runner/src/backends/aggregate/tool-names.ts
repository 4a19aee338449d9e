import { createHash } from 'node:crypto';

/** The tool names Claude's API (and most clients) accept. */
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const HASH_LENGTH = 8;

export interface ToolTarget {
  member: string;
  tool: string;
}

/**
 * The name an aggregate shows for a member's tool: `<member><delimiter><tool>`, or, when that would
 * break the accepted pattern or pass 64 characters, a cut of it plus a short hash of the whole —
 * the same every time, and never split again to route a call.
 */
export function exposedName(member: string, tool: string, delimiter: string): string {
  const full = `${member}${delimiter}${tool}`;
  if (TOOL_NAME.test(full)) return full;
  const safe = full.replace(/[^A-Za-z0-9_-]/g, '_');
  return `${safe.slice(0, 64 - HASH_LENGTH - 1)}_${hashOf(full)}`;
}

function hashOf(text: string): string {
  // base64url's alphabet is within the accepted characters.
  return createHash('sha256').update(text).digest('base64url').slice(0, HASH_LENGTH);
}

/** Which member and tool each shown name stands for. */
export class ToolRoutes {
  private readonly routes = new Map<string, ToolTarget>();

  /** Registers a member's tool; returns the name clients see (unique within this aggregate). */
  add(member: string, tool: string, delimiter: string): string {
    let name = exposedName(member, tool, delimiter);
    // Two tools whose shown names collide (a cut, or `a_b` + `c` against `a` + `b_c`): the later gets a hash.
    for (let salt = 1; this.taken(name, member, tool); salt++) name = exposedName(`${member}#${salt}`, tool, '\u0000');
    this.routes.set(name, { member, tool });
    return name;
  }

  resolve(name: string): ToolTarget | undefined {
    return this.routes.get(name);
  }

  /** Forgets every tool of `member` (its list changed or it went away). */
  dropMember(member: string): void {
    for (const [name, target] of this.routes) if (target.member === member) this.routes.delete(name);
  }

  private taken(name: string, member: string, tool: string): boolean {
    const existing = this.routes.get(name);
    return existing !== undefined && (existing.member !== member || existing.tool !== tool);
  }
}
