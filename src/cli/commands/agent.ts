import { homedir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../agent/index.ts';
import { UsageError } from '../../errors/index.ts';
import { flag, integer, MAX_SNAPSHOT_USAGE, maxMemoryOption, maxSnapshotOption, one, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';
import { INSECURE_HELP, INSECURE_OPTION, refuseOpenFleet } from './exposure.ts';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionOf, untilStopped } from './fleet-options.ts';
import { parseDir } from './run.ts';

export const AGENT_OPTIONS: OptionSpec[] = [
  { name: 'name', value: true },
  { name: 'dir', value: true, repeat: true },
  { name: 'tier', value: true },
  { name: 'heartbeat', value: true },
  { name: 'log-limit', value: true },
  { name: 'takeover-after', value: true },
  { name: 'max-memory', value: true },
  { name: 'max-snapshot', value: true },
  { name: 'state-dir', value: true },
  INSECURE_OPTION,
  ...CONNECTION_OPTIONS,
];

export const AGENT_USAGE = `usage: wasmig agent --name NAME [--dir HOST[::GUEST]]... [OPTIONS]

Runs an edge agent: it announces itself on the broker (a retained status, a last
will saying offline, heartbeats with its load), runs the jobs clients start on it
(wasmig run --on NAME), streams and logs their output, and hands jobs over to
other agents (wasmig migrate). It reconnects by itself when the broker restarts;
its jobs go on meanwhile. Stops on Ctrl-C (its running jobs end with it).

options:
  --name NAME           the agent's name in the fleet (letters, digits, . _ -)
  --dir HOST[::GUEST]   a host directory jobs get, named GUEST (default: the same
                        name); repeatable. Jobs see these and nothing else.
  --tier TIER           execution tier of jobs that do not ask for one: auto
                        (default: native where the host has WebAssembly), native
                        (V8, paused at safepoints to migrate) or interp
  --heartbeat SECONDS   heartbeat period (default 5)
  --log-limit BYTES     output each job's log keeps for re-attaching clients
                        (default 16M; older output is dropped past it)
  --takeover-after S    seconds the owner of a job this agent keeps a standby of
                        (run --replicas) may be gone before this agent takes the
                        job over (default 3; the second standby waits twice that)
  --max-memory BYTES    linear memory each job may have (default 1G: the same on
                        every agent, so a job that runs on one is not refused by
                        another's default); a job asking for more is refused
${MAX_SNAPSHOT_USAGE}
  --state-dir DIR       where the agent keeps what outlives a restart: with a fleet
                        key, the newest message taken from each sender, so that none
                        is played to it twice (default: $WASMIG_STATE_DIR/agent-NAME,
                        else ~/.local/state/wasmig/agent-NAME)
${INSECURE_HELP}

${CONNECTION_HELP}`;

/** The agent's state dir: the one asked for, else one per agent name under the user's state dirs. */
export function stateDirOf(asked: string | undefined, name: string, env: NodeJS.ProcessEnv = process.env): string {
  if (asked !== undefined) return asked;
  const base = env.WASMIG_STATE_DIR || join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'wasmig');
  return join(base, `agent-${name}`);
}

/** `wasmig agent`: runs until stopped; returns the exit status. */
export async function agentCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, AGENT_OPTIONS, false);
  if (p.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(p.positionals[0])}\n\n${AGENT_USAGE}`);
  const name = one(p, 'name');
  if (name === undefined) throw new UsageError(`missing --name NAME\n\n${AGENT_USAGE}`);
  const { connection, key } = connectionOf(p);
  if (!key) refuseOpenFleet('wasmig agent connecting to', connection.url, '--key-file or --identity', flag(p, 'insecure'));
  const heartbeat = integer(p, 'heartbeat', 1);
  const takeover = integer(p, 'takeover-after', 1);
  const agent = await Agent.start({
    name,
    connection,
    key,
    stateDir: stateDirOf(one(p, 'state-dir'), name),
    dirs: (p.options.get('dir') ?? []).map(parseDir),
    tier: one(p, 'tier'),
    heartbeatMs: heartbeat === undefined ? undefined : heartbeat * 1000,
    logLimit: integer(p, 'log-limit', 1024),
    takeoverGraceMs: takeover === undefined ? undefined : takeover * 1000,
    maxMemoryBytes: maxMemoryOption(p),
    maxSnapshotBytes: maxSnapshotOption(p),
    fault: process.env.WASMIG_FAULT || undefined,
    crashAt: process.env.WASMIG_CRASH_AT || undefined,
    log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
  });
  const why = await untilStopped();
  agent.log(`stopping (${why})`);
  await agent.stop();
  return 0;
}
