import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Agent, DEFAULT_DRAIN_TIMEOUT_MS, parseLabels } from '../../agent/index.ts';
import type { DrainReport } from '../../agent/index.ts';
import { UsageError } from '../../errors/index.ts';
import { flag, integer, MAX_SNAPSHOT_USAGE, maxMemoryOption, maxSnapshotOption, one, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';
import { INSECURE_HELP, INSECURE_OPTION, refuseOpenFleet } from './exposure.ts';
import { drainCommand } from './agent-drain.ts';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionOf } from './fleet-options.ts';
import { parseDir } from './run.ts';
import { StopSignals } from './stop-signals.ts';
import { collectAfterMove } from '../collect-after-move.ts';

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
  { name: 'label', value: true, repeat: true },
  { name: 'max-jobs', value: true },
  { name: 'signal-file', value: true },
  { name: 'drain-timeout', value: true },
  { name: 'ahead-clones', value: true },
  ...CONNECTION_OPTIONS,
];

export const AGENT_USAGE = `usage: wasmig agent --name NAME [--dir HOST[::GUEST]]... [OPTIONS]
       wasmig agent drain NAME [--drain-timeout S]

Runs an edge agent: it announces itself on the broker (a retained status, a last
will saying offline, heartbeats with its load), runs the jobs clients start on it
(wasmig run --on NAME), streams and logs their output, and hands jobs over to
other agents (wasmig migrate). It reconnects by itself when the broker restarts;
its jobs go on meanwhile.

SIGTERM or Ctrl-C (or 'wasmig agent drain NAME' from anywhere) drains the agent:
it takes no new job and moves every job to the least loaded agents that can take
it (by their heartbeats), within --drain-timeout, then stops. A job that cannot
move goes on here until the end of the drain; then a replicated job is left to
its standbys (they take it over), any other is reported by name and ends with
the agent. A second SIGTERM or Ctrl-C stops at once and says what it left.

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
  --label KEY=VALUE     a label for placement (run --on KEY=VALUE); repeatable
  --max-jobs N          take at most N unfinished jobs (started or migrated here);
                        run --on any and drains skip an agent that is full
  --signal-file FILE    host signals for schedulers: a JSON object such as
                        {"battery": 12, "leaving": true}, read at every heartbeat
  --drain-timeout S     seconds a drain may take (default 30; 0: no drain, SIGTERM
                        stops at once and the jobs end with the agent)
  --ahead-clones N      resume clones of each module's loops made ahead, in a
                        thread of the agent's, so that a job arriving by migration
                        runs without waiting for its top frame's (default 256,
                        innermost loops first; 0: none)

${CONNECTION_HELP}

memory: an agent that moves jobs for days keeps a flat footprint on Linux when
started with MALLOC_MMAP_THRESHOLD_=131072 and NODE_OPTIONS=--max-semi-space-size=4
in its environment (README, Soak); it collects its garbage after each job that
leaves it (WASMIG_GC_AFTER_MOVE=0: not).`;

/** The agent's state dir: the one asked for, else one per agent name under the user's state dirs. */
export function stateDirOf(asked: string | undefined, name: string, env: NodeJS.ProcessEnv = process.env): string {
  if (asked !== undefined) return asked;
  const base = env.WASMIG_STATE_DIR || join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'wasmig');
  return join(base, `agent-${name}`);
}

/** `wasmig agent`: runs until stopped; returns the exit status. */
export async function agentCommand(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'drain') return drainCommand(argv.slice(1));
  const p = parseArgs(argv, AGENT_OPTIONS, false);
  if (p.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(p.positionals[0])}\n\n${AGENT_USAGE}`);
  const name = one(p, 'name');
  if (name === undefined) throw new UsageError(`missing --name NAME\n\n${AGENT_USAGE}`);
  const stateDir = stateDirOf(one(p, 'state-dir'), name);
  // With an identity and no --revoked, the revocation lists the broker brings are kept in the state dir.
  try {
    mkdirSync(stateDir, { recursive: true });
  } catch (error) {
    throw new UsageError(`--state-dir ${stateDir}: cannot make it: ${(error as Error).message}`);
  }
  const { connection, key } = connectionOf(p, process.env, { revokedDefault: join(stateDir, 'revoked.json') });
  if (!key) refuseOpenFleet('wasmig agent connecting to', connection.url, '--key-file or --identity', flag(p, 'insecure'));
  const heartbeat = integer(p, 'heartbeat', 1);
  const takeover = integer(p, 'takeover-after', 1);
  const drainTimeout = integer(p, 'drain-timeout', 0);
  const signals = new StopSignals();
  const agent = await Agent.start({
    name,
    connection,
    key,
    stateDir,
    dirs: (p.options.get('dir') ?? []).map(parseDir),
    tier: one(p, 'tier'),
    heartbeatMs: heartbeat === undefined ? undefined : heartbeat * 1000,
    logLimit: integer(p, 'log-limit', 1024),
    aheadClones: integer(p, 'ahead-clones', 0),
    takeoverGraceMs: takeover === undefined ? undefined : takeover * 1000,
    maxMemoryBytes: maxMemoryOption(p),
    maxSnapshotBytes: maxSnapshotOption(p),
    capacity: {
      labels: parseLabels(p.options.get('label') ?? []),
      maxJobs: integer(p, 'max-jobs', 1),
      signalFile: one(p, 'signal-file'),
      loadFile: process.env.WASMIG_LOAD_FILE || undefined,
    },
    fault: process.env.WASMIG_FAULT || undefined,
    crashAt: process.env.WASMIG_CRASH_AT || undefined,
    log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
    // A full collection after each departure keeps the agent's memory flat over many moves
    // (README, *Soak*); WASMIG_GC_AFTER_MOVE=0 leaves it all to V8, to compare.
    afterDeparture: process.env.WASMIG_GC_AFTER_MOVE === '0' ? undefined : collectAfterMove(),
  });
  try {
    const asked = new Promise<string>((resolve) => agent.onDrainRequest(resolve));
    const why = await Promise.race([signals.next(), asked]);
    let report: DrainReport | undefined;
    if (drainTimeout !== 0 && why !== 'parent exited') {
      const drained = agent.drain(why, drainTimeout === undefined ? DEFAULT_DRAIN_TIMEOUT_MS : drainTimeout * 1000);
      const first = await Promise.race([drained, signals.next()]);
      if (typeof first === 'string') {
        agent.log(`${first} again: stopping at once`);
        report = await agent.stopDrainNow();
      } else {
        report = first;
      }
    }
    agent.log(`stopping (${why})`);
    await agent.stop({ leave: new Set(report?.toStandbys.map((s) => s.job)) });
    return 0;
  } finally {
    signals.close();
  }
}
