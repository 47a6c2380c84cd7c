import type { Advertised } from './capacity.ts';
import { advertisedOf } from './capacity.ts';
import type { AgentLoad, AgentStatus } from './messages.ts';
import { parseAgentLoad, parseAgentStatus } from './messages.ts';
import type { Peer } from './peer.ts';
import { topicName, topics } from './topics.ts';

/** An online agent as the broker shows it: its status, its latest heartbeat (of this instance) and what that advertises. */
export interface FleetAgent {
  name: string;
  status: AgentStatus;
  /** Undefined until the agent's first heartbeat of this instance is in. */
  load: AgentLoad | undefined;
  advertised: Advertised;
}

/**
 * Every online agent the broker holds a retained status for, with its heartbeat when the
 * heartbeat is from the same instance (a heartbeat left by an earlier run says nothing).
 */
export async function readAgents(peer: Peer): Promise<FleetAgent[]> {
  const statuses = new Map<string, AgentStatus>();
  const loads = new Map<string, AgentLoad>();
  const stop = await peer.listenRetained([topics.allAgentStatus, topics.allAgentLoad], (topic, payload) => {
    const statusOf = topicName(topic, 'agents', 'status');
    if (statusOf) { const s = parseAgentStatus(payload); if (s && s.agent === statusOf) statuses.set(s.agent, s); }
    const loadOf = topicName(topic, 'agents', 'load');
    if (loadOf) { const l = parseAgentLoad(payload); if (l && l.agent === loadOf) loads.set(l.agent, l); }
  });
  stop();
  const agents: FleetAgent[] = [];
  for (const status of statuses.values()) {
    if (!status.online) continue;
    const heard = loads.get(status.agent);
    const load = heard && heard.instance === status.instance ? heard : undefined;
    agents.push({ name: status.agent, status, load, advertised: advertisedOf(load) });
  }
  return agents.sort((a, b) => (a.name < b.name ? -1 : 1));
}
