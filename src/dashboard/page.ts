/**
 * The dashboard's page: HTML and one script module, served as they are (no build step),
 * so both live here as strings. The script connects to the broker over MQTT-over-WebSocket
 * with MQTT.js's browser build, subscribes to the retained statuses, heartbeats and job
 * states and the agents' migration reports, keeps them in one object (`FleetView`), and
 * redraws the tables, a uPlot chart of each agent's CPU and one of every move's downtime
 * and bytes (whoever started it: the page, `wasmig migrate`, a drain, a scheduler) from
 * it. That view only reads. The controls (start a job from an uploaded module, move a
 * job, stop it, follow its output) go through the fleet's client in the page, `/browser/fleet.js`
 * (`src/browser-fleet.ts`), when `npm run build:browser` has built it; without it the
 * page says so and stays read-only.
 */

/** What the page needs to know, given to it as JSON in the HTML. */
export interface PageConfig {
  /** `ws://` or `wss://` URL of the broker, without credentials. */
  broker: string;
  /** Login for the broker, if it needs one. */
  username?: string;
  password?: string;
  /** Topic filters: agents' statuses, their heartbeats, job states, migration reports (every committed move's numbers). */
  filters: { status: string; load: string; jobs: string; migrations: string };
}

function escapeJson(config: PageConfig): string {
  // Inside <script type="application/json">: only "</" could end the element early.
  return JSON.stringify(config).replace(/</g, '\\u003c');
}

/** The page, with `config` in it. */
export function dashboardHtml(config: PageConfig): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wasmig fleet</title>
<link rel="stylesheet" href="/vendor/uPlot.min.css">
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .2em; }
  h2 { font-size: 1.05em; margin: 1.4em 0 .4em; }
  #connection { color: #666; }
  #trust { color: #a60; }
  table { border-collapse: collapse; min-width: 40em; }
  th, td { text-align: left; padding: .25em .8em .25em 0; border-bottom: 1px solid #ddd; }
  th { font-weight: 600; }
  .offline { color: #a00; }
  .online { color: #070; }
  .empty { color: #888; font-style: italic; }
  form, .controls { margin: .3em 0; display: flex; gap: .5em; align-items: center; flex-wrap: wrap; }
  input[type=text] { width: 16em; }
  #tail { background: #f6f6f6; padding: .5em; min-height: 4em; max-height: 16em; overflow: auto; font-size: 12px; white-space: pre-wrap; }
  #control-state { color: #666; }
</style>
</head>
<body>
<h1>wasmig fleet</h1>
<div id="connection">connecting…</div>
<div id="trust"></div>
<h2>Agents</h2>
<table id="agents"><thead><tr><th>agent</th><th>state</th><th>tier</th><th>CPU (cores)</th><th>RSS</th><th>jobs</th><th>host</th></tr></thead><tbody></tbody></table>
<h2>Agent load (CPU, cores)</h2>
<div id="chart"></div>
<h2>Jobs</h2>
<table id="jobs"><thead><tr><th>job</th><th>state</th><th>agent</th><th>program</th><th>epoch</th><th>updated</th></tr></thead><tbody></tbody></table>
<h2>Controls</h2>
<div id="control-state">controls: loading…</div>
<div class="controls">fleet key or identity (a fleet that signs; read in this page, sent nowhere) <input type="file" id="key-file"></div>
<form id="start-form">
  start <input type="file" id="start-module" accept=".wasm,application/wasm">
  args <input type="text" id="start-args" placeholder="lines=10 status=3">
  job <input type="text" id="start-job" placeholder="(a new id)">
  on <select id="start-agent"></select>
  <button type="submit" id="start">Start</button>
</form>
<div class="controls">
  move <select id="move-job"></select> to <select id="move-to"></select>
  <button type="button" id="move">Migrate</button>
  <button type="button" id="stop">Stop</button>
  <button type="button" id="follow">Follow output</button>
</div>
<h2>Output of <span id="tail-job">(no job followed)</span></h2>
<pre id="tail"></pre>
<h2>Migrations: downtime and bytes (every move the agents report)</h2>
<div id="moves-chart"></div>
<table id="moves"><thead><tr><th>job</th><th>from</th><th>to</th><th>downtime</th><th>bytes</th><th>mode</th><th>started by</th></tr></thead><tbody></tbody></table>
<script type="application/json" id="config">${escapeJson(config)}</script>
<script type="module" src="/dashboard.js"></script>
</body>
</html>
`;
}

/** The page's script (an ES module importing the two vendored libraries). */
export const DASHBOARD_SCRIPT = String.raw`
import mqtt from '/vendor/mqtt.esm.js';
import uPlot from '/vendor/uPlot.esm.js';

const config = JSON.parse(document.getElementById('config').textContent);
/** Points kept per agent in the chart (at one heartbeat a second: 10 minutes). */
const HISTORY = 600;

/**
 * Why a retained message is not to be believed (undefined: it is): the fleet client's
 * check once a key or identity is given (fleet.js, RetainedCheck); before, none.
 */
let distrust = () => undefined;
let checking = false;

/** Everything the page shows, from the retained messages and what follows them. */
class FleetView {
  agents = new Map();   // name -> { status, load, cpu: [[seconds, cores]...] }
  jobs = new Map();     // id -> JobState, with unverified: why, when its signature fails
  raw = new Map();      // topic -> the last payload, to check again when a key comes

  agent(name) {
    let a = this.agents.get(name);
    if (!a) { a = { status: undefined, load: undefined, cpu: [] }; this.agents.set(name, a); }
    return a;
  }

  /** Whether an online agent says it signs: then only a key or identity tells forged from real. */
  signs() {
    return [...this.agents.values()].some((a) => a.status?.online === true && a.status?.signed === true);
  }

  /** Takes one message; returns whether anything shown changed. */
  take(topic, payload) {
    if (payload.length === 0) this.raw.delete(topic); else this.raw.set(topic, payload);
    return this.apply(topic, payload);
  }

  /** Everything taken so far, checked again (a key or identity was just given). */
  recheck() {
    const cpu = new Map([...this.agents].map(([name, a]) => [name, a.cpu]));
    this.agents.clear();
    this.jobs.clear();
    for (let i = moves.length - 1; i >= 0; i--) if (moves[i].by === 'elsewhere') moves.splice(i, 1);
    for (const [topic, payload] of this.raw) this.apply(topic, payload);
    for (const [name, a] of this.agents) a.cpu = cpu.get(name) ?? a.cpu;
  }

  apply(topic, payload) {
    const parts = topic.split('/');
    if (parts.length !== 5) return false;
    const [, , kind, name, leaf] = parts;
    if (payload.length === 0) {
      // An empty retained message deletes one.
      if (kind === 'jobs' && leaf === 'state') return this.jobs.delete(name);
      if (kind === 'agents' && leaf === 'status') return this.agents.delete(name);
      return false;
    }
    let message;
    try { message = JSON.parse(new TextDecoder().decode(payload)); } catch { return false; }
    if (typeof message !== 'object' || message === null) return false;
    // As ps: a forged status, heartbeat or migration report is left out; a forged job state is shown as such.
    const why = distrust(topic, payload);
    if (why !== undefined && !(kind === 'jobs' && leaf === 'state')) return false;
    if (kind === 'agents' && leaf === 'status') { this.agent(name).status = message; return true; }
    if (kind === 'agents' && leaf === 'load') {
      const a = this.agent(name);
      a.load = message;
      const t = typeof message.ts === 'number' ? message.ts / 1000 : Date.now() / 1000;
      if (typeof message.cpu === 'number' && (a.cpu.length === 0 || a.cpu[a.cpu.length - 1][0] < t)) {
        a.cpu.push([t, message.cpu]);
        if (a.cpu.length > HISTORY) a.cpu.shift();
      }
      return true;
    }
    if (kind === 'jobs' && leaf === 'state') { this.jobs.set(name, why === undefined ? message : { ...message, unverified: why }); return true; }
    if (kind === 'jobs' && leaf === 'migration') return addMove(message, 'elsewhere');
    return false;
  }
}

/**
 * Every migration seen, oldest first: [{ job, from, to, epoch, downtimeMs, bytesSent, mode, by }],
 * from the source agents' retained reports (any move: the CLI's, a drain's, this page's)
 * and from this page's own moves as soon as they answer; a move is one (job, epoch).
 */
const moves = [];
globalThis.dashboardMoves = moves; // for tests and the console
/** Moves kept (the chart and table show the last ones). */
const MOVES_KEPT = 200;

/** Adds a move unless it is there already (by job and epoch); returns whether it was new. */
function addMove(m, by) {
  const number = (x) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  if (typeof m.job !== 'string' || typeof m.from !== 'string' || typeof m.to !== 'string' || !number(m.epoch) || !number(m.downtimeMs) || !number(m.bytesSent)) return false;
  const known = moves.find((x) => x.job === m.job && x.epoch === m.epoch);
  if (known) {
    // The agent's report may come before the page's own answer: the move is still this page's.
    if (by === 'this page' && known.by !== by) { known.by = by; return true; }
    return false;
  }
  moves.push({ job: m.job, from: m.from, to: m.to, epoch: m.epoch, downtimeMs: m.downtimeMs, bytesSent: m.bytesSent, mode: String(m.mode ?? ''), by });
  if (moves.length > MOVES_KEPT) moves.shift();
  return true;
}

const view = new FleetView();
globalThis.fleetView = view; // for tests and the console

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
}

function mib(bytes) {
  return typeof bytes === 'number' ? (bytes / 1048576).toFixed(0) + ' MiB' : '';
}

function renderTables() {
  const agents = document.querySelector('#agents tbody');
  agents.replaceChildren();
  for (const [name, a] of [...view.agents].sort((x, y) => x[0].localeCompare(y[0]))) {
    const row = document.createElement('tr');
    const online = a.status?.online === true;
    cell(row, name);
    cell(row, a.status ? (online ? 'online' : 'offline') : 'unknown', online ? 'online' : 'offline');
    cell(row, a.status?.tier ?? '');
    cell(row, typeof a.load?.cpu === 'number' ? a.load.cpu.toFixed(2) : '');
    cell(row, mib(a.load?.rss));
    cell(row, a.load ? a.load.running + ' running / ' + a.load.jobs : '');
    cell(row, a.status?.host ?? '');
    agents.appendChild(row);
  }
  if (view.agents.size === 0) agents.innerHTML = '<tr><td class="empty" colspan="7">no agents yet</td></tr>';
  const jobs = document.querySelector('#jobs tbody');
  jobs.replaceChildren();
  for (const [id, j] of [...view.jobs].sort((x, y) => x[0].localeCompare(y[0]))) {
    const row = document.createElement('tr');
    cell(row, id);
    if (j.unverified !== undefined) cell(row, 'unverified: ' + j.unverified, 'offline');
    else cell(row, j.state + (j.target ? ' to ' + j.target : '') + (j.status !== undefined ? ' (' + j.status + ')' : '') + (!checking && view.signs() ? ' (unchecked)' : ''));
    cell(row, j.agent ?? '');
    cell(row, j.program ?? '');
    cell(row, String(j.epoch ?? ''));
    cell(row, j.updatedAt ?? '');
    jobs.appendChild(row);
  }
  if (view.jobs.size === 0) jobs.innerHTML = '<tr><td class="empty" colspan="6">no jobs yet</td></tr>';
  document.getElementById('trust').textContent = !checking && view.signs()
    ? 'this fleet signs: what is shown here is unchecked (a forged state would look real) until its key or an identity is chosen under Controls'
    : checking ? 'checked with ' + fleet.signing + ': forged statuses and moves are left out, forged job states marked' : '';
}

let chart;
let chartAgents = '';

/** One x axis (seconds) for every agent: the union of their heartbeat times, gaps as null. */
function chartData(names) {
  const times = [...new Set(names.flatMap((n) => view.agents.get(n).cpu.map((p) => p[0])))].sort((a, b) => a - b);
  const series = names.map((n) => {
    const at = new Map(view.agents.get(n).cpu);
    return times.map((t) => (at.has(t) ? at.get(t) : null));
  });
  return [times, ...series];
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

function renderChart() {
  const names = [...view.agents.keys()].filter((n) => view.agents.get(n).cpu.length > 0).sort();
  const key = names.join('\n');
  if (!chart || key !== chartAgents) {
    chart?.destroy();
    chartAgents = key;
    chart = new uPlot({
      width: 720, height: 220,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      series: [{}, ...names.map((n, i) => ({ label: n, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: true }))],
      axes: [{}, { label: 'cores' }],
    }, chartData(names), document.getElementById('chart'));
  } else {
    chart.setData(chartData(names));
  }
}

let queued = false;
function render() {
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => { queued = false; renderTables(); renderChart(); });
}

const status = document.getElementById('connection');
const client = mqtt.connect(config.broker, {
  protocolVersion: 4, clean: true, reconnectPeriod: 2000,
  clientId: 'wasmig-dashboard-' + Math.random().toString(16).slice(2, 10),
  username: config.username, password: config.password,
});
client.on('connect', () => {
  status.textContent = 'connected to ' + config.broker;
  client.subscribe([config.filters.status, config.filters.load, config.filters.jobs, config.filters.migrations], { qos: 0 });
});
client.on('reconnect', () => { status.textContent = 'reconnecting to ' + config.broker + '…'; });
client.on('error', (error) => { status.textContent = 'broker ' + config.broker + ': ' + error.message; });
client.on('message', (topic, payload) => {
  if (!view.take(topic, payload)) return;
  render();
  renderChoices();
  if (topic.endsWith('/migration')) renderMoves();
});
render();

// ---- Controls: the fleet's client in the page (/browser/fleet.js), when it is built ----

const controlState = document.getElementById('control-state');
const tail = document.getElementById('tail');
/** Bytes of output the tail keeps. */
const TAIL_CHARS = 4000;
let fleet;

/** Fills a select with options, keeping what was chosen. */
function choices(select, values) {
  const chosen = select.value;
  const key = values.join('\n');
  if (select.dataset.key === key) return;
  select.dataset.key = key;
  select.replaceChildren(...values.map((v) => { const o = document.createElement('option'); o.value = v; o.textContent = v; return o; }));
  if (values.includes(chosen)) select.value = chosen;
}

function renderChoices() {
  const online = [...view.agents].filter(([, a]) => a.status?.online === true).map(([n]) => n).sort();
  choices(document.getElementById('start-agent'), online);
  choices(document.getElementById('move-to'), online);
  const live = [...view.jobs].filter(([, j]) => j.unverified === undefined && j.state !== 'exited' && j.state !== 'failed').map(([id]) => id).sort();
  choices(document.getElementById('move-job'), live);
}

function said(text) { controlState.textContent = 'controls: ' + text; }

let following = '';
function follow(job) {
  if (!fleet || following === job) return;
  following = job;
  document.getElementById('tail-job').textContent = job;
  tail.textContent = '';
  fleet.follow(job, (text) => {
    if (following !== job) return;
    tail.textContent = (tail.textContent + text).slice(-TAIL_CHARS);
    tail.scrollTop = tail.scrollHeight;
  }, (line) => { if (following === job) tail.textContent += '[' + line + ']\n'; })
    .then((end) => { if (following === job) tail.textContent += '[' + job + ' ' + end.state + (end.status !== undefined ? ' with status ' + end.status : '') + ' on ' + end.agent + ']\n'; })
    .catch((error) => { if (following === job) tail.textContent += '[' + error.message + ']\n'; });
}

let movesChart;
function renderMoves() {
  const body = document.querySelector('#moves tbody');
  body.replaceChildren();
  for (const m of moves) {
    const row = document.createElement('tr');
    for (const text of [m.job, m.from, m.to, m.downtimeMs.toFixed(1) + ' ms', (m.bytesSent / 1024).toFixed(0) + ' KiB', m.mode, m.by]) cell(row, text);
    body.appendChild(row);
  }
  if (moves.length === 0) body.innerHTML = '<tr><td class="empty" colspan="7">no migration seen yet</td></tr>';
  const data = [moves.map((_, i) => i + 1), moves.map((m) => m.downtimeMs), moves.map((m) => m.bytesSent / 1024)];
  if (!movesChart) {
    movesChart = new uPlot({
      width: 720, height: 200,
      // Headroom above the highest point, and a margin either side of the moves, so that none sits on an edge.
      scales: { x: { time: false, range: (_u, _min, max) => [0, Math.max(2, max + 1)] }, ms: { range: (_u, _min, max) => [0, Math.max(10, max * 1.25)] }, kib: { range: (_u, _min, max) => [0, Math.max(64, max * 1.25)] } },
      series: [{ label: 'migration' }, { label: 'downtime (ms)', stroke: '#d62728', width: 2, scale: 'ms', points: { size: 8 } },
        { label: 'bytes (KiB)', stroke: '#1f77b4', width: 2, scale: 'kib', points: { size: 8 } }],
      axes: [{ label: 'migration' }, { scale: 'ms', label: 'ms' }, { scale: 'kib', side: 1, label: 'KiB', grid: { show: false } }],
    }, data, document.getElementById('moves-chart'));
  } else {
    movesChart.setData(data);
  }
}
renderMoves();

document.getElementById('start-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const file = document.getElementById('start-module').files[0];
  const agent = document.getElementById('start-agent').value;
  if (!fleet) return said('not available (see above)');
  if (!file) return said('choose a .wasm module to start');
  if (!agent) return said('no agent online to start it on');
  const args = document.getElementById('start-args').value.split(/\s+/).filter((a) => a !== '');
  const job = document.getElementById('start-job').value.trim() || undefined;
  said('starting ' + file.name + ' on ' + agent + '…');
  try {
    const id = await fleet.start({ agent, module: new Uint8Array(await file.arrayBuffer()), program: file.name, args, job });
    said('started ' + id + ' on ' + agent);
    follow(id);
  } catch (error) {
    said(error.message);
  }
});

document.getElementById('move').addEventListener('click', async () => {
  const job = document.getElementById('move-job').value;
  const to = document.getElementById('move-to').value;
  if (!fleet) return said('not available (see above)');
  if (!job || !to) return said('choose a running job and an agent');
  said('moving ' + job + ' to ' + to + '…');
  try {
    const r = await fleet.migrate(job, to);
    if (addMove(r, 'this page')) renderMoves();
    said('moved ' + job + ' from ' + r.from + ' to ' + r.to + ' (' + r.downtimeMs.toFixed(1) + ' ms down, ' + (r.bytesSent / 1024).toFixed(0) + ' KiB)');
  } catch (error) {
    said(error.message);
  }
});

document.getElementById('stop').addEventListener('click', async () => {
  const job = document.getElementById('move-job').value;
  if (!fleet) return said('not available (see above)');
  if (!job) return said('choose a running job');
  said('stopping ' + job + '…');
  try {
    said('stopped ' + job + ' on ' + await fleet.stop(job));
  } catch (error) {
    said(error.message);
  }
});

document.getElementById('follow').addEventListener('click', () => {
  const job = document.getElementById('move-job').value;
  if (job) follow(job);
});

const connection = { broker: config.broker, username: config.username, password: config.password };
import('/browser/fleet.js').then(async ({ connectFleet }) => {
  fleet = await connectFleet(connection);
  said('ready (start, migrate, follow: through the fleet client in this page)');
  // A fleet that signs: the client again, with the key or identity the user picks (read here, never uploaded).
  document.getElementById('key-file').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    try {
      const next = await connectFleet(connection, undefined, { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
      const old = fleet;
      fleet = next;
      following = '';
      await old.close();
      distrust = next.checks ? (topic, payload) => next.distrust(topic, payload) : () => undefined;
      checking = next.checks;
      view.recheck();
      render();
      renderChoices();
      renderMoves();
      said('ready, signing with ' + next.signing + ' (start, migrate, follow: through the fleet client in this page)');
    } catch (error) {
      said(file.name + ': ' + error.message);
    }
  });
}, () => said('not built: run npm run build:browser (the page stays read-only)')).catch((error) => said('could not connect: ' + error.message));
`;
