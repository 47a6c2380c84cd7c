import type { Progress } from '../../agent/index.ts';
import { checkName, FleetClient } from '../../agent/index.ts';
import { UsageError } from '../../errors/index.ts';
import { flag, integer, one, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';
import { formatBytes } from '../bytes.ts';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionOf } from './fleet-options.ts';
import { lostAfterMs } from './run-remote.ts';

export const MIGRATE_OPTIONS: OptionSpec[] = [
  { name: 'to', value: true },
  { name: 'max-downtime', value: true },
  { name: 'deadline', value: true },
  { name: 'stop-and-copy' },
  { name: 'cancel' },
  { name: 'json' },
  { name: 'timeout', value: true },
  { name: 'lost-after', value: true },
  ...CONNECTION_OPTIONS,
];

export const MIGRATE_USAGE = `usage: wasmig migrate JOB --to AGENT [OPTIONS]
       wasmig migrate JOB --cancel

Moves a running job to another agent while it runs (live migration). The job
keeps running while its memory goes to AGENT in rounds, each with the blocks
changed since the last; once what is left is small, the job pauses, the rest
and its state go over, AGENT verifies and restores it, and only once AGENT runs
it does the old agent drop its copy. Memory AGENT already has (the module's own
data, or what the job left there on an earlier visit) does not travel. Prints
the downtime (paused at the source until running at the target), the rounds,
and the bytes sent; exits 0 once the job runs on AGENT. If AGENT refuses, times
out or dies, or the migration is cancelled before the pause, the job goes on
where it was, and the reason is printed (exit status 1).

options:
  --to AGENT            where to move the job
  --max-downtime MS     the pause to aim at (default 20): rounds go on until
                        what is left would go over in about that long
  --deadline SECONDS    stop the rounds after this long and send the rest in
                        the pause, whatever its size (default 60)
  --stop-and-copy       no rounds: pause first, then send everything (to compare)
  --cancel              stop a migration of JOB that is under way (before its pause)
  --json                print the result as JSON
  --timeout SECONDS     give up waiting after this long (default 600)
  --lost-after S        seconds the job's agent may show offline during the move
                        (a dropped link) before the move counts as failed
                        (default 10); back as a new instance fails it at once

${CONNECTION_HELP}`;

function bar(p: Progress): string {
  if (p.phase === 'round') return `pre-copy round ${p.round}: ${formatBytes(p.sent ?? 0)} changed...`;
  if (p.phase !== 'transfer' || !p.total) return `${p.phase}...`;
  const fraction = Math.min(1, (p.sent ?? 0) / p.total);
  const width = 30;
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${formatBytes(p.sent ?? 0)} of ${formatBytes(p.total)}`;
}

/** `wasmig migrate JOB --to AGENT`. */
export async function migrateCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, MIGRATE_OPTIONS, false);
  const [job, ...extra] = p.positionals;
  if (!job) throw new UsageError(`missing JOB\n\n${MIGRATE_USAGE}`);
  if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  checkName(job, 'job');
  if (flag(p, 'cancel')) {
    const { connection, key } = connectionOf(p);
    const client = await FleetClient.connect({ connection, key, log: (line) => process.stderr.write(`wasmig: ${line}\n`) });
    try {
      const where = await client.cancelMigration(job);
      process.stdout.write(`asked ${where} to cancel the migration of job ${job}; the job goes on there\n`);
      return 0;
    } finally {
      await client.close();
    }
  }
  const to = one(p, 'to');
  if (to === undefined) throw new UsageError(`missing --to AGENT\n\n${MIGRATE_USAGE}`);
  checkName(to, '--to');
  const maxDowntimeMs = integer(p, 'max-downtime', 0);
  const deadline = integer(p, 'deadline', 0);
  const timeout = integer(p, 'timeout', 1) ?? 600;
  const lostAfter = lostAfterMs(p);
  const { connection, key } = connectionOf(p);
  const tty = process.stderr.isTTY === true;
  let shown = false;
  const client = await FleetClient.connect({ connection, key, log: (line) => process.stderr.write(`wasmig: ${line}\n`) });
  try {
    const result = await client.migrate(job, to, {
      mode: flag(p, 'stop-and-copy') ? 'stop-and-copy' : 'live',
      maxDowntimeMs,
      deadlineMs: deadline === undefined ? undefined : deadline * 1000,
      timeoutMs: timeout * 1000,
      lostAfterMs: lostAfter,
      onProgress: (progress) => {
        if (!tty) return;
        process.stderr.write(`\r\x1b[2K${bar(progress)}`);
        shown = true;
      },
    });
    if (shown) process.stderr.write('\r\x1b[2K');
    if (flag(p, 'json')) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      const parts = [`${formatBytes(result.finalBytes)} in the pause`];
      if (result.moduleBytes > 0) parts.push(`module ${formatBytes(result.moduleBytes)}`);
      const how = result.mode === 'stop-and-copy' ? 'stop-and-copy' : `${result.rounds} pre-copy round${result.rounds === 1 ? '' : 's'}, ${result.reason}`;
      process.stdout.write(`moved job ${result.job} from ${result.from} to ${result.to}: downtime ${result.downtimeMs} ms, ${formatBytes(result.bytesSent)} sent (${parts.join(', ')}) in ${result.totalMs} ms; ${how}\n`);
    }
    return 0;
  } finally {
    if (shown) process.stderr.write('\r\x1b[2K');
    await client.close();
  }
}
