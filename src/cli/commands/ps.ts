import { advertisedOf, FleetClient, readMoves } from '../../agent/index.ts';
import type { JobState, MoveRecord } from '../../agent/index.ts';
import { UsageError } from '../../errors/index.ts';
import { flag, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';
import { formatBytes } from '../bytes.ts';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionOf } from './fleet-options.ts';

export const PS_OPTIONS: OptionSpec[] = [{ name: 'json' }, { name: 'agents' }, ...CONNECTION_OPTIONS];

export const PS_USAGE = `usage: wasmig ps [--json] [--agents] [OPTIONS]

Lists every job the broker knows of: id, agent, state (running, paused,
migrating, exited, failed, or lost: not final, but its agent is offline or
restarted, so nobody runs it), program and start time. With --agents, lists
the agents, their load, jobs (of --max-jobs, and whether draining) and
labels instead. --json prints an array of objects (jobs:
id, agent, state, program, startedAt, epoch, status, error, agentOnline, and
lost: why, for a lost job; its state is then the one its agent last published;
standbys and checkpoint {number, seq, at} for replicated jobs; placement: the
labels a job was placed by; lastMove {from, to, reason, at}; unverified: why, for
a state that fails the signature check of the fleet key given). Replicated jobs
(run --replicas) show their standbys and the age of the last checkpoint they all
hold in the STANDBYS and CHECKPOINT columns. A job that a drain or a scheduler
moved says why in a LAST MOVE column (shown when some job has one; lastMove in
--json), while it is on the agent that move took it to.

${CONNECTION_HELP}`;

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

/** The standbys of a replicated job (`-` for others; `none` when no agent could hold one). */
function standbysOf(j: JobState): string {
  if (j.standbys === undefined) return '-';
  return j.standbys.length ? j.standbys.join(',') : 'none';
}

/** How old the last checkpoint every standby holds is, with its number: `#12 0.4s ago`. */
export function checkpointAge(j: JobState, now: number): string {
  if (!j.checkpoint || j.state === 'exited' || j.state === 'failed') return '-';
  const age = Math.max(0, (now - Date.parse(j.checkpoint.at)) / 1000);
  return `#${j.checkpoint.number} ${age < 10 ? age.toFixed(1) : Math.round(age)}s ago`;
}

/** An automatic move for people: `from a 12s ago: drain of agent a (SIGTERM)`. */
export function moveText(m: MoveRecord | undefined, now: number): string {
  if (!m) return '-';
  const age = Math.max(0, Math.round((now - Date.parse(m.at)) / 1000));
  return `from ${m.from} ${age}s ago: ${m.reason}`;
}

/** `wasmig ps`. */
export async function psCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, PS_OPTIONS, false);
  if (p.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(p.positionals[0])}\n\n${PS_USAGE}`);
  const { connection, key } = connectionOf(p);
  const client = await FleetClient.connect({ connection, key });
  try {
    const [view, moves] = await Promise.all([client.list(), readMoves(client.peer)]);
    /** The job's last automatic move, while the job is still where it took it. */
    const lastMove = (j: JobState): MoveRecord | undefined => {
      const m = moves.get(j.job);
      return m && m.to === j.agent && m.epoch === j.epoch ? m : undefined;
    };
    if (flag(p, 'agents')) {
      if (flag(p, 'json')) { process.stdout.write(`${JSON.stringify(view.agents)}\n`); return 0; }
      const rows = [['AGENT', 'ONLINE', 'CPU', 'RSS', 'JOBS', 'DIRS', 'HOST', 'LABELS']];
      for (const a of view.agents) {
        const advertised = advertisedOf(a.online ? a.load : undefined);
        const jobs = a.load && a.online ? `${a.load.jobs}${advertised.maxJobs === undefined ? '' : `/${advertised.maxJobs}`}${advertised.draining ? ' draining' : ''}` : '-';
        rows.push([a.agent, a.online ? 'yes' : 'no', a.load && a.online ? a.load.cpu.toFixed(2) : '-', a.load && a.online ? formatBytes(a.load.rss) : '-',
          jobs, (a.dirs ?? []).join(',') || '-', a.host ?? '-', Object.entries(advertised.labels).map(([k, v]) => `${k}=${v}`).join(',') || '-']);
      }
      process.stdout.write(`${table(rows)}\n`);
      return 0;
    }
    if (flag(p, 'json')) {
      const jobs = view.jobs.map((j) => ({
        id: j.job, agent: j.agent, state: j.state, program: j.program, args: j.args, startedAt: j.startedAt, updatedAt: j.updatedAt,
        epoch: j.epoch, status: j.status, error: j.error, target: j.target, agentOnline: j.agentOnline, lost: j.lost, unverified: j.unverified,
        standbys: j.standbys, checkpoint: j.checkpoint, placement: j.placement, lastMove: lastMove(j),
      }));
      process.stdout.write(`${JSON.stringify(jobs)}\n`);
      return 0;
    }
    // The replication columns come last: scripts that read the first five keep working.
    const rows = [['JOB', 'AGENT', 'STATE', 'PROGRAM', 'STARTED', 'STANDBYS', 'CHECKPOINT', 'LAST MOVE']];
    const now = Date.now();
    for (const j of view.jobs) {
      // A job nobody runs any more is lost, whatever its agent last said ("migrating" included).
      const state = j.unverified !== undefined ? `UNVERIFIED: not the job's word (${j.unverified})` : j.lost !== undefined ? `lost (${j.lost})`
        : j.state === 'exited' ? `exited (${j.status ?? 0})` : j.state === 'migrating' && j.target ? `migrating to ${j.target}` : j.state;
      rows.push([j.job, j.agent, state, j.program, j.startedAt.replace(/\.\d+Z$/, 'Z'), standbysOf(j), checkpointAge(j, now), moveText(lastMove(j), now)]);
    }
    // LAST MOVE only when some job has one: a fleet nobody steers lists as it always did.
    if (!view.jobs.some((j) => lastMove(j))) for (const row of rows) row.pop();
    process.stdout.write(`${table(rows)}\n`);
    return 0;
  } finally {
    await client.close();
  }
}
