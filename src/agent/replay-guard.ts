import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors/index.ts';

/** How far a signed message's clock may be from ours. */
export const MAX_SKEW_MS = 5 * 60_000;

/** Ids kept in memory before the ones outside the clock window are forgotten. */
const MEMORY_PRUNE_AT = 10_000;

/** What the store remembers of one sender: the newest timestamp accepted, and the ids accepted at it. */
interface HighWater {
  ts: number;
  ids: string[];
}

/**
 * Refuses a signed message seen before, or too far from this clock to be remembered:
 * a recorded message cannot be played again to start a job twice.
 *
 * Within one run, every id accepted in the clock window ({@link MAX_SKEW_MS} either way)
 * is remembered, so messages from one sender may arrive in any order. Across restarts,
 * when the guard has a `store` file, it keeps a high-water mark per sender: the newest
 * timestamp it accepted from that sender (by the sender's own clock, so device clocks
 * need not agree) and the ids accepted at that very millisecond. After a restart a
 * sender's message is accepted only if it is newer than that mark. The mark is written
 * (atomically: a temporary file renamed over the old one) before the message is acted
 * on, so a crash between the two leaves the message refused, never run twice.
 * Senders silent for longer than the window are dropped from the file: anything they
 * sent back then is refused by the clock check anyway.
 *
 * Why marks and not instance-bound windows: the sender of a `start` would then have to
 * know its recipient's current instance, and so would every agent-to-agent message of a
 * handoff and of replication; a mark needs nothing from the sender but its clock, and
 * costs the recipient one small file write per accepted request.
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();
  readonly #store: string | undefined;
  /** Marks as loaded at start: what came before this run. */
  readonly #floor = new Map<string, HighWater>();
  /** Marks as they are now (written to the store). */
  readonly #marks = new Map<string, HighWater>();

  /** `store`: the file that keeps the high-water marks across restarts (none: memory only). */
  constructor(store?: string) {
    this.#store = store;
    if (store === undefined) return;
    for (const [from, mark] of readMarks(store)) {
      this.#floor.set(from, mark);
      this.#marks.set(from, { ts: mark.ts, ids: [...mark.ids] });
    }
    // A state dir that cannot be written is found now, not at the first message.
    this.#persist(Date.now());
  }

  /**
   * Why a message with this sender, id and timestamp is refused (undefined: accepted, and
   * remembered). `durable: false` for messages nothing acts on after a restart (replies,
   * whose requests died with the run): remembered in memory only, no file write.
   */
  check(from: string, id: string, ts: number, options: { durable?: boolean; now?: number } = {}): string | undefined {
    const now = options.now ?? Date.now();
    if (Math.abs(now - ts) > MAX_SKEW_MS) return `timestamp ${new Date(ts).toISOString()} is more than ${MAX_SKEW_MS / 60_000} minutes away from this clock`;
    if (this.#seen.has(id)) return 'replayed message (id seen before)';
    const floor = this.#floor.get(from);
    if (floor && (ts < floor.ts || (ts === floor.ts && floor.ids.includes(id)))) {
      return `replayed message (not newer than the last one accepted from ${from} before this restart)`;
    }
    this.#seen.set(id, ts);
    if (this.#seen.size > MEMORY_PRUNE_AT) {
      for (const [k, t] of this.#seen) if (Math.abs(now - t) > MAX_SKEW_MS) this.#seen.delete(k);
    }
    if (this.#store !== undefined && options.durable !== false) {
      const mark = this.#marks.get(from);
      if (!mark || ts > mark.ts) this.#marks.set(from, { ts, ids: [id] });
      else if (ts === mark.ts) mark.ids.push(id);
      else return undefined;
      try {
        this.#persist(now);
      } catch (error) {
        return `cannot record it in ${this.#store} (${(error as Error).message}): refused rather than open to replay`;
      }
    }
    return undefined;
  }

  #persist(now: number): void {
    const store = this.#store as string;
    const senders: Record<string, HighWater> = {};
    for (const [from, mark] of this.#marks) {
      if (mark.ts < now - MAX_SKEW_MS) this.#marks.delete(from);
      else senders[from] = mark;
    }
    const tmp = `${store}.tmp`;
    writeFileSync(tmp, JSON.stringify({ v: 1, senders }));
    renameSync(tmp, store);
  }
}

function readMarks(store: string): Map<string, HighWater> {
  const marks = new Map<string, HighWater>();
  let text: string;
  try {
    mkdirSync(dirname(store), { recursive: true });
    text = readFileSync(store, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return marks;
    throw new UsageError(`state dir ${dirname(store)}: ${(error as Error).message}`);
  }
  const broken = (): never => {
    throw new UsageError(`${store} is not a replay guard file (delete it to start over: messages of the last ${MAX_SKEW_MS / 60_000} minutes could then be replayed once)`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    broken();
  }
  const senders = (parsed as { senders?: unknown })?.senders;
  if (typeof senders !== 'object' || senders === null) broken();
  for (const [from, mark] of Object.entries(senders as Record<string, unknown>)) {
    const m = mark as HighWater;
    if (typeof m?.ts !== 'number' || !Array.isArray(m.ids) || !m.ids.every((i) => typeof i === 'string')) broken();
    marks.set(from, { ts: m.ts, ids: m.ids });
  }
  return marks;
}
