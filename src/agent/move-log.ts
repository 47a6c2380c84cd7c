import type { Peer } from './peer.ts';
import { ROOT, topicName } from './topics.ts';

/**
 * The last automatic move of each job (a drain's, a scheduler's), retained beside the
 * job's state so that `ps` shows why a job is where it is. Written by the source agent
 * once the move committed; advisory (unsigned, like heartbeats): nothing acts on it.
 */
export interface MoveRecord {
  job: string;
  from: string;
  to: string;
  /** The job's epoch on its new agent. */
  epoch: number;
  /** Why it moved: `drain of agent a (SIGTERM)`, `rule busy: cpu 1.80 > 1.5 for 10 s (asked by scheduler-1)`. */
  reason: string;
  at: string;
}

/** Retained `MoveRecord` of one job. */
export const moveTopic = (job: string): string => `${ROOT}/jobs/${job}/moved`;
const ALL_MOVES = `${ROOT}/jobs/+/moved`;

export function publishMove(peer: Peer, record: MoveRecord): Promise<void> {
  return peer.link.publish(moveTopic(record.job), JSON.stringify({ v: 1, ...record }), { qos: 1, retain: true });
}

/** Every job's last automatic move, by job id (malformed records are skipped). */
export async function readMoves(peer: Peer): Promise<Map<string, MoveRecord>> {
  const moves = new Map<string, MoveRecord>();
  const stop = await peer.listenRetained([ALL_MOVES], (topic, payload) => {
    const job = topicName(topic, 'jobs', 'moved');
    const record = job === undefined ? undefined : parseMove(payload);
    if (record && record.job === job) moves.set(job, record);
  });
  stop();
  return moves;
}

function parseMove(payload: Buffer): MoveRecord | undefined {
  if (payload.length === 0 || payload.length > 4096) return undefined;
  try {
    const o = JSON.parse(payload.toString()) as Record<string, unknown>;
    const text = (k: string): string | undefined => (typeof o[k] === 'string' && (o[k] as string).length <= 1024 ? (o[k] as string) : undefined);
    const [job, from, to, reason, at] = ['job', 'from', 'to', 'reason', 'at'].map(text);
    if (!job || !from || !to || !reason || !at || typeof o.epoch !== 'number') return undefined;
    return { job, from, to, epoch: o.epoch, reason, at };
  } catch {
    return undefined;
  }
}

/**
 * What one committed migration measured, as its source agent saw it: published for
 * every move (from `wasmig migrate`, a dashboard, a drain, a scheduler) and retained
 * (the job's last), so that the dashboard charts each move's downtime and bytes whoever
 * started it. Nothing acts on it; in a fleet that signs it is signed by its source (as
 * `agent`, like a job state), so that a dashboard with the key charts only real moves.
 */
export interface MigrationReport {
  job: string;
  from: string;
  to: string;
  /** The job's epoch on its new agent: with `job`, it names the move. */
  epoch: number;
  mode: string;
  rounds: number;
  /** Paused at the source until running at the target (measured at the source). */
  downtimeMs: number;
  /** From the request to the commit. */
  totalMs: number;
  /** Bytes on the wire (rounds, final package, module). */
  bytesSent: number;
  at: string;
}

/** Retained {@link MigrationReport} of one job's last move. */
export const migrationTopic = (job: string): string => `${ROOT}/jobs/${job}/migration`;
/** Every job's migration reports (the dashboard's subscription). */
export const ALL_MIGRATIONS = `${ROOT}/jobs/+/migration`;

export function publishMigration(peer: Peer, report: MigrationReport): Promise<void> {
  return peer.link.publish(migrationTopic(report.job), JSON.stringify(peer.signDocument({ v: 1, ...report, agent: report.from })), { qos: 1, retain: true });
}
