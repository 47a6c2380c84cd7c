import { checkName, FleetClient } from '../../agent/index.ts';
import { UsageError } from '../../errors/index.ts';
import { parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionOf } from './fleet-options.ts';

export const STOP_OPTIONS: OptionSpec[] = [...CONNECTION_OPTIONS];

export const STOP_USAGE = `usage: wasmig stop JOB [OPTIONS]

Stops a job where it runs, as a program killed by SIGTERM: it fails with status
143, its error naming who stopped it, and its output up to then stays (wasmig
attach JOB shows it). Refused while the job is being moved (stop it where it
arrives, or cancel the move: wasmig migrate JOB --cancel) and once it ended.

${CONNECTION_HELP}`;

/** `wasmig stop JOB`. */
export async function stopCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, STOP_OPTIONS, false);
  const [job, ...extra] = p.positionals;
  if (!job) throw new UsageError(`missing JOB\n\n${STOP_USAGE}`);
  if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  checkName(job, 'job');
  const { connection, key } = connectionOf(p);
  const client = await FleetClient.connect({ connection, key, log: (line) => process.stderr.write(`wasmig: ${line}\n`) });
  try {
    const where = await client.stop(job);
    process.stdout.write(`stopped job ${job} on ${where} (status 143)\n`);
    return 0;
  } finally {
    await client.close();
  }
}
