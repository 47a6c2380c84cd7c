import { checkName, FleetClient } from '../../agent/index.ts';
import { UsageError } from '../../errors/index.ts';
import { integer, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionOf } from './fleet-options.ts';
import { followToTerminal, lostAfterMs } from './run-remote.ts';

export const ATTACH_OPTIONS: OptionSpec[] = [{ name: 'from', value: true }, { name: 'lost-after', value: true }, ...CONNECTION_OPTIONS];

export const ATTACH_USAGE = `usage: wasmig attach [--from SEQ] [OPTIONS] JOB

Follows a job wherever it runs: prints its stdout and stderr from the start (the
agent keeps a log of each job's output), then live, in order, across migrations
and reconnections; exits with the job's exit status. When nobody runs the job
any more (its agent went offline or restarted, and no other agent took it over
within --lost-after seconds), says so and exits with 69. Ctrl-C detaches again.

options:
  --from SEQ            start at output chunk SEQ instead of the beginning
  --lost-after S        seconds the job's agent may stay offline, with no other
                        agent taking the job over, before the job counts as lost
                        (default 10)

${CONNECTION_HELP}`;

/** `wasmig attach JOB`. */
export async function attachCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, ATTACH_OPTIONS, false);
  const [job, ...extra] = p.positionals;
  if (!job) throw new UsageError(`missing JOB\n\n${ATTACH_USAGE}`);
  if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  checkName(job, 'job');
  const from = integer(p, 'from', 0) ?? 0;
  const lostAfter = lostAfterMs(p);
  const { connection, key } = connectionOf(p);
  const client = await FleetClient.connect({ connection, key, log: (line) => process.stderr.write(`wasmig: ${line}\n`) });
  try {
    return await followToTerminal(client, job, from, lostAfter);
  } finally {
    await client.close();
  }
}
