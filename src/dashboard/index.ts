/**
 * `wasmig dashboard`: a read-only page of the fleet (agents, their load, jobs), live
 * over MQTT-over-WebSocket, served on loopback. See README.md, "Dashboard".
 * @module
 */
export { BROWSER_AGENT_DIR, startDashboard } from './server.ts';
export type { Dashboard, DashboardOptions } from './server.ts';
