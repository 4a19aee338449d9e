import { readFileSync } from 'node:fs';

/** The resident set size of exactly this process, its children excluded, in bytes (Linux only). */
export function rssBytes(pid: number): number {
  if (process.platform !== 'linux') throw new Error(`rssBytes reads /proc/<pid>/status, which ${process.platform} does not have`);
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the memory of process ${pid}: it has exited`, { cause: err });
  }
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  // A zombie has no VmRSS line: its memory is already freed.
  if (!match) throw new Error(`process ${pid} has no resident set (a zombie or a kernel thread)`);
  return Number(match[1]) * 1024;
}

/** RSS once the process has had a moment to settle (and, where it allows, to collect). */
export async function settledRss(pid: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 2000));
  return rssBytes(pid);
}
