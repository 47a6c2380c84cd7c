/**
 * Followers of a job for fleet tests: what a person following it saw (its stdout, the
 * program's notes on stderr) and how it ended (69: the job was lost). Either `wasmig run
 * --on` / `attach` as a process (to kill it), or `FleetClient.follow` in the test's own
 * process (what those commands use; no process to boot per case). Every wait is bounded
 * and says what it waited for.
 */
import { FleetClient, JobLostError } from '../../src/agent/index.ts';
import type { JobState } from '../../src/agent/index.ts';
import type { Proc } from './fleet.ts';

/** What a follower saw, and how it ended. */
export interface Following {
  readonly label: string;
  out(): string;
  /** The program's notes on stderr (lines starting `note `), in order. */
  notes(): string;
  /** Waits until stdout matches `re` (60 s at most). */
  waitFor(re: RegExp): Promise<void>;
  /** The job's status (69: lost) and why it ended (90 s at most). */
  ended(): Promise<{ status: number; why: string }>;
}

/** The lines of `stderr` that the test programs write as notes. */
export function notesOf(stderr: string): string {
  return stderr.split('\n').filter((l) => l.startsWith('note ')).join('\n');
}

/** `p`, or an error naming `what` when it has not settled within `ms`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms); });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for `p` to exit, within `ms`; its status (an error with its output when it still runs). */
export async function exitOf(p: Proc, ms = 90_000): Promise<number> {
  return within(p.exited, ms, `${p.label} still runs\n--- stdout:\n${p.out.slice(-1500)}\n--- stderr:\n${p.err.slice(-3000)}\n---`);
}

/** `wasmig run --on` (or `attach`) as a process. */
export function processFollower(proc: Proc): Following {
  return {
    label: proc.label,
    out: () => proc.out,
    notes: () => notesOf(proc.err),
    waitFor: async (re) => { await proc.waitFor(re, 'out', 60_000); },
    ended: async () => ({ status: await exitOf(proc), why: proc.err }),
  };
}

/** A follower in this process, from the start of the job's output; it says the job is lost after `lostAfterMs` without an owner. */
export function inProcessFollower(client: FleetClient, job: string, lostAfterMs: number): Following {
  let text = '';
  let err = '';
  let poke = (): void => {};
  const end = client.follow(job, {
    lostAfterMs,
    onOutput: (c) => {
      if (c.stream === 1) { text += Buffer.from(c.data).toString(); poke(); } else err += Buffer.from(c.data).toString();
    },
  }).then(
    (s) => ({ status: s.status ?? -1, why: s.error ?? '' }),
    (error: unknown) => {
      if (error instanceof JobLostError) return { status: 69, why: error.message };
      throw error;
    },
  );
  end.catch(() => {});
  return {
    label: `follower of ${job}`,
    out: () => text,
    notes: () => notesOf(err),
    waitFor: (re) => new Promise((resolveWait, reject) => {
      const timer = setTimeout(() => reject(new Error(`follower of ${job}: no ${re} within 60 s; got ${text.slice(-500)}`)), 60_000);
      poke = () => { if (re.test(text)) { clearTimeout(timer); resolveWait(); } };
      poke();
    }),
    ended: () => within(end, 90_000, `the follower of ${job}`),
  };
}

/** Waits until the broker `client` is on shows `job` in a state that satisfies `ok`. */
export async function stateWhere(client: FleetClient, job: string, ok: (s: JobState) => boolean, timeoutMs = 60_000): Promise<JobState> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const st = await client.jobState(job);
    if (st && ok(st)) return st;
    if (Date.now() > until) throw new Error(`job ${job}: no matching state within ${timeoutMs} ms (last: ${JSON.stringify(st)})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
