import { UsageError, WasmigError } from '../errors/index.ts';
import { parseLabel } from './capacity.ts';
import type { FleetAgent } from './fleet-agents.ts';

/**
 * Where a job may go, chosen by the fleet (`wasmig run --on any`, `--on site=plant-2`,
 * drains and schedulers): the agents that fit, least loaded first, and a one-line
 * reason for the choice.
 */

/** `any`, or labels every candidate must carry (`site=plant-2,arch=arm64`). */
export interface Selector {
  labels: Record<string, string>;
}

/** No agent can take the job: the message says why, agent by agent when it helps. */
export class PlacementError extends WasmigError {
  override readonly name = 'PlacementError';
  constructor(message: string) {
    super('ERR_PLACEMENT', message);
  }
}

/**
 * `--on` asks the fleet to choose (`any`, or `KEY=VALUE[,KEY=VALUE]...`): its selector;
 * undefined when it names one agent.
 * @throws UsageError for a malformed label
 */
export function parseSelector(on: string): Selector | undefined {
  if (on === 'any') return { labels: {} };
  if (!on.includes('=')) return undefined;
  const labels: Record<string, string> = {};
  for (const part of on.split(',')) {
    const [k, v] = parseLabel(part, '--on');
    if (Object.hasOwn(labels, k)) throw new UsageError(`--on ${on}: label ${k} given twice`);
    labels[k] = v;
  }
  return { labels };
}

/** What the job needs of the agent that takes it, and what the caller already knows. */
export interface PlacementNeeds {
  /** Guest directories the job uses (a migrating job's preopens). */
  dirs?: readonly string[];
  /** Linear memory the job asks for: agents with less free memory are left out. */
  memoryBytes?: number;
  /** Agents not to consider (the job's own, targets that refused already). */
  exclude?: ReadonlySet<string>;
  /** Jobs the caller is sending to an agent already, not yet in its heartbeat: each counts as one busy core. */
  pending?: ReadonlyMap<string, number>;
}

/** The agents that fit, best first, and why the others do not. */
export interface Ranking {
  ranked: FleetAgent[];
  /** Agents that carry the labels asked for (before capacity was checked). */
  matching: number;
  /** Why matching agents were left out, counted: `{ full: 2, draining: 1 }`. */
  left: Record<string, number>;
}

/** How busy an agent is: its CPU use plus the jobs on their way to it, per core. */
export function busyness(agent: FleetAgent, pending = 0): number {
  return ((agent.load?.cpu ?? 0) + pending) / agent.advertised.cores;
}

/** Busyness in steps of 0.05: noise below that does not reorder agents (then fewer jobs wins, then the name). */
function busyStep(agent: FleetAgent, pending: number): number {
  return Math.round(busyness(agent, pending) * 20);
}

/** Ranks the agents for a job: those with the labels, the directories and room for it, least loaded first. */
export function rankAgents(agents: readonly FleetAgent[], selector: Selector, needs: PlacementNeeds = {}): Ranking {
  const left: Record<string, number> = {};
  const leave = (why: string): false => { left[why] = (left[why] ?? 0) + 1; return false; };
  const matching = agents.filter((a) => !needs.exclude?.has(a.name) && Object.entries(selector.labels).every(([k, v]) => a.advertised.labels[k] === v));
  const pendingOf = (a: FleetAgent): number => needs.pending?.get(a.name) ?? 0;
  const fit = matching.filter((a) => {
    if (!a.load) return leave('without a heartbeat yet');
    if (a.advertised.draining) return leave('draining');
    const max = a.advertised.maxJobs;
    if (max !== undefined && a.load.jobs + pendingOf(a) >= max) return leave('full');
    if (needs.dirs && !needs.dirs.every((d) => (a.status.dirs ?? []).includes(d))) return leave("without the job's directories");
    if (needs.memoryBytes !== undefined && a.load.memFree < needs.memoryBytes) return leave('short of free memory');
    return true;
  });
  const jobsOf = (a: FleetAgent): number => (a.load?.jobs ?? 0) + pendingOf(a);
  fit.sort((a, b) => busyStep(a, pendingOf(a)) - busyStep(b, pendingOf(b)) || jobsOf(a) - jobsOf(b) || (a.name < b.name ? -1 : 1));
  return { ranked: fit, matching: matching.length, left };
}

/** `site=plant-2,arch=arm64`, or `any`. */
export function selectorText(selector: Selector): string {
  const parts = Object.entries(selector.labels).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(',') : 'any';
}

function leftText(left: Record<string, number>): string {
  return Object.entries(left).map(([why, n]) => `${n} ${why}`).join(', ');
}

/** The one line that explains a choice: `least loaded of 3 with site=plant-2 (cpu 0.10 of 2 cores, 1 job)`. */
export function explainChoice(ranking: Ranking, selector: Selector, chosen: FleetAgent): string {
  const among = Object.keys(selector.labels).length ? `of ${ranking.ranked.length} with ${selectorText(selector)}` : `of ${ranking.ranked.length} online agent${ranking.ranked.length === 1 ? '' : 's'}`;
  const jobs = chosen.load?.jobs ?? 0;
  const load = `cpu ${(chosen.load?.cpu ?? 0).toFixed(2)} of ${chosen.advertised.cores} core${chosen.advertised.cores === 1 ? '' : 's'}, ${jobs} job${jobs === 1 ? '' : 's'}`;
  const others = leftText(ranking.left);
  return `${ranking.ranked.length === 1 ? 'the only one' : 'least loaded'} ${among} (${load})${others ? `; left out: ${others}` : ''}`;
}

/** Chooses the agent for a job; throws a {@link PlacementError} that says why none fits. */
export function place(agents: readonly FleetAgent[], selector: Selector, needs: PlacementNeeds = {}): { ranking: Ranking; chosen: FleetAgent; why: string } {
  const ranking = rankAgents(agents, selector, needs);
  const chosen = ranking.ranked[0];
  if (!chosen) {
    const considered = agents.filter((a) => !needs.exclude?.has(a.name)).length;
    const wanted = Object.keys(selector.labels).length ? ` with ${selectorText(selector)}` : '';
    if (considered === 0) throw new PlacementError('no agent can take the job: no agent is online');
    if (ranking.matching === 0) throw new PlacementError(`no agent can take the job: none of the ${considered} online agent${considered === 1 ? '' : 's'} has ${selectorText(selector)}`);
    throw new PlacementError(`no agent can take the job: of ${ranking.matching} agent${ranking.matching === 1 ? '' : 's'}${wanted}, ${leftText(ranking.left)}`);
  }
  return { ranking, chosen, why: explainChoice(ranking, selector, chosen) };
}
