/**
 * The browser agent's page (`/agent` of `wasmig dashboard`): a small HTML shell that
 * loads the agent's bundle (`dist/browser/agent.js`, `src/browser-agent.ts`) with its
 * config as JSON: the tab joins the fleet as agent `?name=` (default `tab`) and shows
 * its state and log.
 */

/** What the agent page's script reads from the HTML. */
export interface AgentPageConfig {
  /** `ws://` or `wss://` URL of the broker, without credentials. */
  broker: string;
  username?: string;
  password?: string;
  /** The agent's name when the URL gives no `?name=`. */
  name: string;
  /** The jobs' tier when the URL gives no `?tier=`. */
  tier: string;
}

/** The page, with `config` in it. */
export function agentPageHtml(config: AgentPageConfig): string {
  // Inside <script type="application/json">: only "</" could end the element early.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wasmig browser agent</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .4em; }
  .offline { color: #a00; }
  .online { color: #070; }
  .waiting { color: #a60; }
  pre { background: #f6f6f6; padding: .6em; max-height: 30em; overflow: auto; font-size: 12px; }
</style>
</head>
<body>
<h1>wasmig agent <span id="name"></span> (this tab)</h1>
<div id="state">starting…</div>
<p id="key-choice" hidden>Key or identity file (read in this page, sent nowhere): <input type="file" id="key-file"></p>
<p id="revoked-choice" hidden>Revocation list (<code>wasmig fleet revoke</code> writes it; kept in this page): <input type="file" id="revoked-file"></p>
<p>Jobs run in Web Workers on this browser's WebAssembly. Closing the tab takes the agent offline; the fleet sees its last will.</p>
<pre id="log"></pre>
<script type="application/json" id="config">${json}</script>
<script type="module" src="/browser/agent.js"></script>
</body>
</html>
`;
}
