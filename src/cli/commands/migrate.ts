import type { Progress } from '../../agent/index.ts';
import { checkName, FleetClient } from '../../agent/index.ts';
import { UsageError } from '../../errors/index.ts';
import { flag, integer, one, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';
import { formatBytes } from '../bytes.ts';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionOf } from './fleet-options.ts';

export const MIGRATE_OPTIONS: OptionSpec[] = [
  { name: 'to', value: true },
  { name: 'json' },
  { name: 'timeout', value: true },
  ...CONNECTION_OPTIONS,
];

export const MIGRATE_USAGE = `usage: wasmig migrate JOB --to AGENT [OPTIONS]

Moves a running job to another agent while it runs: the job pauses at the next
slice boundary, its snapshot travels to AGENT, which verifies and restores it,
and only once AGENT runs it does the old agent drop its copy. Prints the
downtime (paused at the source until running at the target) and the bytes sent;
exits 0 once the job runs on AGENT. If AGENT refuses, times out or dies, the job
goes on where it was, and the reason is printed (exit status 1).

options:
  --to AGENT            where to move the job
  --json                print the result as JSON
  --timeout SECONDS     give up waiting after this long (default 600)

${CONNECTION_HELP}`;

function bar(p: Progress): string {
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
  const to = one(p, 'to');
  if (to === undefined) throw new UsageError(`missing --to AGENT\n\n${MIGRATE_USAGE}`);
  checkName(to, '--to');
  const timeout = integer(p, 'timeout', 1) ?? 600;
  const { connection, key } = connectionOf(p);
  const tty = process.stderr.isTTY === true;
  let shown = false;
  const client = await FleetClient.connect({ connection, key, log: (line) => process.stderr.write(`wasmig: ${line}\n`) });
  try {
    const result = await client.migrate(job, to, {
      timeoutMs: timeout * 1000,
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
      const parts = [`snapshot ${formatBytes(result.snapshotBytes)}`];
      if (result.moduleBytes > 0) parts.push(`module ${formatBytes(result.moduleBytes)}`);
      process.stdout.write(`moved job ${result.job} from ${result.from} to ${result.to}: downtime ${result.downtimeMs} ms, ${formatBytes(result.bytesSent)} sent (${parts.join(', ')})\n`);
    }
    return 0;
  } finally {
    if (shown) process.stderr.write('\r\x1b[2K');
    await client.close();
  }
}
