/**
 * Edge agents over MQTT: the embedded broker, `wasmig agent`, and the client side of the
 * fleet protocol (start, follow, migrate, list jobs). The protocol is in docs/protocol.md;
 * only `mqtt-link.ts` talks to mqtt.js.
 * @module
 */
export { Agent, DEFAULT_JOB_MEMORY_BYTES } from './agent.ts';
export type { AgentOptions } from './agent.ts';
export { startBroker } from './broker.ts';
export { listenOn } from './listen.ts';
export type { BrokerOptions, EmbeddedBroker } from './broker.ts';
export { FleetClient, JobLostError, LOST_AFTER_MS, newJobId, whyLost } from './client.ts';
export type { ClientOptions, FleetView, FollowOptions, ListedJob, StartedJob, StartJobOptions } from './client.ts';
export { checkName, DEFAULT_BROKER, displayUrl, resolveConnection } from './connection.ts';
export type { ConnectionFlags, ConnectionOptions } from './connection.ts';
export type { OutputChunk } from './frames.ts';
export type { AgentLoad, AgentStatus, CheckpointInfo, JobSpec, JobState, JobStateName } from './messages.ts';
export { MAX_REPLICAS } from './messages.ts';
export type { MigrationOptions, MigrationResult, Progress } from './handoff-source.ts';
export { FleetKey } from './signing.ts';
export { signerFromFile } from './signer-file.ts';
export type { MessageSigner } from './signing.ts';
export { DeviceIdentity, FleetAuthority, parseRoles, ROLES } from './identity.ts';
export type { DeviceCertificate, DeviceIdentityFile, IdentityOptions, Role } from './identity.ts';
export { checkRevocations } from './revocation.ts';
export { publishRevocations } from './revocation-publish.ts';
export type { Revocation, RevocationDocument } from './revocation.ts';
export { topics } from './topics.ts';
export { advertisedOf, parseLabel, parseLabels } from './capacity.ts';
export type { Advertised, CapacityOptions } from './capacity.ts';
export { DEFAULT_DRAIN_TIMEOUT_MS, describeDrain } from './drain.ts';
export type { DrainReport } from './drain.ts';
export { readAgents } from './fleet-agents.ts';
export type { FleetAgent } from './fleet-agents.ts';
export { ALL_MIGRATIONS, readMoves } from './move-log.ts';
export type { MigrationReport, MoveRecord } from './move-log.ts';
export { busyness, parseSelector, place, PlacementError, rankAgents, selectorText } from './placement.ts';
export type { PlacementNeeds, Ranking, Selector } from './placement.ts';
export { Policy, Scheduler, signalsTopic } from './scheduler.ts';
export type { FleetLook, PlannedMove, SchedulerOptions } from './scheduler.ts';
export { DEFAULT_COOLDOWN_MS, DEFAULT_INTERVAL_MS, evaluate, followTarget, globToRegExp, parseRule, parseRuleSet } from './scheduler-rules.ts';
export type { AgentRule, FollowRule, Rule, RuleSet } from './scheduler-rules.ts';
