/**
 * `wasmig dashboard`: a page of the fleet (agents, their load, jobs, live over
 * MQTT-over-WebSocket, with controls to start, move and follow jobs), and the browser
 * agent's page (`/agent`: the tab joins the fleet), served on loopback. See README.md,
 * "Dashboard" and "A browser tab as an agent".
 * @module
 */
export { BROWSER_AGENT_DIR, startDashboard } from './server.ts';
export type { Dashboard, DashboardOptions } from './server.ts';
