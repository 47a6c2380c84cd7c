/**
 * Where a process's memory is, for the soak's --memory-report: its mappings from
 * `/proc/PID/smaps` (resident kB, anonymous or file-backed, permissions), totals from
 * `/proc/PID/smaps_rollup`, and what the process reports of itself through
 * tools/bench/memory-probe.mjs (heap spaces, `process.memoryUsage()`, workers).
 * Linux only: elsewhere the readings are empty, and the report says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** One mapping of a process: where, how, and how much of it is resident. */
export interface Mapping {
  start: string;
  /** Reserved size, kB. */
  size: number;
  perms: string;
  /** File path, `[heap]`, `[stack]`, ... or '' (anonymous). */
  path: string;
  /** Resident, kB. */
  rss: number;
  /** Resident and anonymous (written, not from a file), kB. */
  anon: number;
}

/** The process's mappings, or [] when /proc has none (process gone, not Linux). */
export function readSmaps(pid: number): Mapping[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return [];
  }
  const maps: Mapping[] = [];
  let m: Mapping | undefined;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      m = { start: head[1], size: Number((BigInt(`0x${head[2]}`) - BigInt(`0x${head[1]}`)) / 1024n), perms: head[3], path: head[4], rss: 0, anon: 0 };
      maps.push(m);
      continue;
    }
    const field = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (field && m) {
      if (field[1] === 'Rss') m.rss = Number(field[2]);
      else m.anon = Number(field[2]);
    }
  }
  return maps;
}

/** `/proc/PID/smaps_rollup`'s kB fields (Rss, Pss, Anonymous, Private_Dirty, ...). */
export function readRollup(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const [, k, v] of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').matchAll(/^(\w+):\s+(\d+) kB/gm)) out[k] = Number(v);
  } catch {
    // gone, or no /proc
  }
  return out;
}

/** The kind of a mapping, as the report groups them: what is in a Node process's RSS. */
export function kindOf(m: Mapping): string {
  if (m.path === '[heap]') return 'brk heap';
  if (m.path.startsWith('[')) return m.path;
  if (m.path !== '') return m.anon > 0 ? 'file (written)' : 'file';
  // Anonymous: V8's JIT code (JS and wasm) is executable; other anon rw is malloc arenas, V8 heaps, stacks.
  if (m.perms.includes('x')) return 'anon exec (jit code)';
  if (m.perms.startsWith('rw')) return 'anon rw';
  return `anon ${m.perms}`;
}

/** Resident MB per kind, and how many mappings of each. */
export function byKind(maps: Mapping[]): Record<string, { mb: number; count: number }> {
  const out: Record<string, { mb: number; count: number }> = {};
  for (const m of maps) {
    if (m.rss === 0) continue;
    const k = (out[kindOf(m)] ??= { mb: 0, count: 0 });
    k.mb += m.rss / 1024;
    k.count++;
  }
  for (const k of Object.values(out)) k.mb = Math.round(k.mb * 10) / 10;
  return out;
}

/** The mappings whose resident size grew most since `before` (new ones count whole), largest first. */
export function growth(before: Mapping[], after: Mapping[], count = 8): { start: string; kind: string; sizeMB: number; rssMB: number; grewMB: number }[] {
  const was = new Map(before.map((m) => [m.start, m.rss]));
  return after
    .map((m) => ({ start: m.start, kind: kindOf(m), sizeMB: Math.round(m.size / 102.4) / 10, rssMB: Math.round(m.rss / 102.4) / 10, grewMB: Math.round((m.rss - (was.get(m.start) ?? 0)) / 102.4) / 10 }))
    .filter((g) => g.grewMB > 0)
    .sort((a, b) => b.grewMB - a.grewMB)
    .slice(0, count);
}

/**
 * What a process loaded with tools/bench/memory-probe.mjs says of itself: signals it
 * (SIGUSR2) and waits, up to `timeoutMs`, for the line it appends to `file`.
 */
export async function probe(pid: number, file: string, timeoutMs = 10_000): Promise<Record<string, unknown> | undefined> {
  const lines = (): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
  const before = lines().length;
  try {
    process.kill(pid, 'SIGUSR2');
  } catch {
    return undefined;
  }
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(50)) {
    const now = lines();
    if (now.length > before) return JSON.parse(now[now.length - 1]) as Record<string, unknown>;
  }
  return undefined;
}
