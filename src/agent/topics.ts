/**
 * The MQTT topics of the wasmig fleet protocol (docs/protocol.md). Every topic starts
 * with `wasmig/v1/`; agent names, job ids and client ids are single topic levels.
 */
export const ROOT = 'wasmig/v1';

export const topics = {
  /** Retained {@link AgentStatus}; the agent's last will sets it offline. */
  agentStatus: (agent: string) => `${ROOT}/agents/${agent}/status`,
  /** Retained heartbeat: {@link AgentLoad}. */
  agentLoad: (agent: string) => `${ROOT}/agents/${agent}/load`,
  /** Control messages (JSON, signed with the fleet key) for one agent. */
  agentInbox: (agent: string) => `${ROOT}/agents/${agent}/inbox`,
  /** Binary blob chunks (modules, snapshots) sent to one agent. */
  agentData: (agent: string) => `${ROOT}/agents/${agent}/data`,
  /** Retained {@link JobState}: where a job runs, at which epoch, how it ended. */
  jobState: (job: string) => `${ROOT}/jobs/${job}/state`,
  /** Live output chunks of a job, from whichever agent runs it. */
  jobOut: (job: string) => `${ROOT}/jobs/${job}/out`,
  /** Replies to one client (a CLI command or an agent acting as one). */
  clientInbox: (client: string) => `${ROOT}/clients/${client}/inbox`,
  /** Output replayed from an agent's log for one client. */
  clientOut: (client: string) => `${ROOT}/clients/${client}/out`,
  /** Retained: the fleet authority's signed revocation list (`wasmig fleet revoke --broker`), taken by devices with identities. */
  fleetRevoked: `${ROOT}/fleet/revoked`,
  allJobStates: `${ROOT}/jobs/+/state`,
  allAgentStatus: `${ROOT}/agents/+/status`,
  allAgentLoad: `${ROOT}/agents/+/load`,
} as const;

/** The name in a `wasmig/v1/<kind>/<name>/<leaf>` topic, or undefined. */
export function topicName(topic: string, kind: 'agents' | 'jobs' | 'clients', leaf: string): string | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== ROOT || parts[2] !== kind || parts[4] !== leaf) return undefined;
  return parts[3];
}
