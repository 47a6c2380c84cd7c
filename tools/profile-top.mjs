#!/usr/bin/env node
// Prints the functions with the most self time in a V8 .cpuprofile (node --cpu-prof),
// with the hottest source lines of each. Usage: node tools/profile-top.mjs FILE [N]
import { readFileSync } from 'node:fs';

const [file, count = '15'] = process.argv.slice(2);
if (!file) { console.error('usage: node tools/profile-top.mjs FILE.cpuprofile [N]'); process.exit(2); }
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const lines = new Map();
let total = 0;
profile.samples.forEach((id, i) => {
  const node = byId.get(id);
  const dt = profile.timeDeltas[i] ?? 0;
  const f = node.callFrame;
  const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + dt);
  total += dt;
});
for (const node of profile.nodes) {
  const f = node.callFrame;
  const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
  for (const t of node.positionTicks ?? []) {
    const m = lines.get(key) ?? new Map();
    m.set(t.line, (m.get(t.line) ?? 0) + t.ticks);
    lines.set(key, m);
  }
}
for (const [key, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(count))) {
  const hot = [...(lines.get(key) ?? new Map())].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([l, n]) => `${l}:${n}`).join(' ');
  console.log(`${(100 * t / total).toFixed(1).padStart(5)}%  ${key}  ${hot}`);
}
