import { UsageError } from '../errors/index.ts';
import type { FleetAgent } from './fleet-agents.ts';
import { busyness } from './placement.ts';

/**
 * The rules of `wasmig scheduler` (a JSON file, documented in the README): when an agent
 * should shed its jobs, and where a job should follow its user. Parsed strictly: a typo
 * in a rules file is a one-line error naming the rule and the field, never a rule that
 * silently never fires.
 *
 *     {
 *       "interval": 2, "cooldown": 60,
 *       "rules": [
 *         { "name": "busy", "if": "load", "above": 0.75, "for": 10 },
 *         { "name": "low-memory", "if": "memFree", "below": "256M", "for": 5 },
 *         { "name": "battery", "if": "signal", "signal": "battery", "below": 20 },
 *         { "name": "leaving", "if": "signal", "signal": "leaving", "equals": true },
 *         { "name": "follow-ann", "if": "follow", "topic": "plant/ann/near", "jobs": "nav-*" }
 *       ]
 *     }
 */

/** A rule about an agent: while it holds (for `forMs`), the agent's jobs move elsewhere. */
export interface AgentRule {
  kind: 'load' | 'memFree' | 'signal';
  name: string;
  /** For `signal`: the signal's name (from the agent's --signal-file or its signals topic). */
  signal?: string;
  above?: number;
  below?: number;
  equals?: string | number | boolean;
  /** How long the condition must hold before a job moves (0: at once). */
  forMs: number;
  /** Which jobs the rule moves (a glob on job ids; default all). */
  jobs: RegExp;
  jobsText: string;
}

/** A job follows its user: it moves to the agent named by the last message on `topic`. */
export interface FollowRule {
  kind: 'follow';
  name: string;
  topic: string;
  jobs: RegExp;
  jobsText: string;
}

export type Rule = AgentRule | FollowRule;

export interface RuleSet {
  /** Between two looks at the fleet. */
  intervalMs: number;
  /** A job that moved (for any reason, by anyone) is not moved again before this. */
  cooldownMs: number;
  rules: Rule[];
}

export const DEFAULT_INTERVAL_MS = 2000;
export const DEFAULT_COOLDOWN_MS = 60_000;

/** `nav-*` as a regular expression over job ids (`*` any run of characters, `?` one). */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/** Sizes as on the command line: a number of bytes, or a string with K/M/G. */
function bytes(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  const m = typeof v === 'string' ? /^(\d+)([KMG])?$/i.exec(v.trim()) : null;
  if (!m) throw new UsageError(`${where}: expected a byte count such as 268435456 or "256M"`);
  const scale = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Number(m[1]) * scale;
}

function num(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UsageError(`${where}: expected a number`);
  return v;
}

/** Seconds in the file, milliseconds out (`dfltMs` when absent). */
function seconds(v: unknown, where: string, dfltMs: number): number {
  if (v === undefined) return dfltMs;
  const n = num(v, where);
  if (n < 0 || n > 86_400) throw new UsageError(`${where}: expected seconds between 0 and 86400`);
  return n * 1000;
}

const RULE_KEYS: Record<string, string[]> = {
  load: ['above', 'below', 'for', 'jobs'],
  memFree: ['below', 'for', 'jobs'],
  signal: ['signal', 'above', 'below', 'equals', 'for', 'jobs'],
  follow: ['topic', 'jobs'],
};

/**
 * A rule from the file (or the command line), checked.
 * @throws UsageError naming the file, the rule and the field
 */
export function parseRule(o: unknown, where: string): Rule {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new UsageError(`${where}: a rule is a JSON object`);
  const r = o as Record<string, unknown>;
  const kind = r.if;
  if (typeof kind !== 'string' || !Object.hasOwn(RULE_KEYS, kind)) throw new UsageError(`${where}: "if" must be one of load, memFree, signal, follow`);
  const name = r.name === undefined ? kind : r.name;
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new UsageError(`${where}: "name" must be a short name (letters, digits, . _ -)`);
  const at = `${where} (${name})`;
  for (const key of Object.keys(r)) if (key !== 'if' && key !== 'name' && !RULE_KEYS[kind].includes(key)) throw new UsageError(`${at}: unknown field "${key}" for a ${kind} rule (it takes ${RULE_KEYS[kind].join(', ')})`);
  const jobsText = r.jobs === undefined ? '*' : r.jobs;
  if (typeof jobsText !== 'string' || jobsText.length > 128) throw new UsageError(`${at}: "jobs" must be a glob such as "nav-*"`);
  const jobs = globToRegExp(jobsText);
  if (kind === 'follow') {
    const topic = r.topic;
    if (typeof topic !== 'string' || !topic || topic.length > 512 || /[+#\0]/.test(topic)) throw new UsageError(`${at}: "topic" must be an MQTT topic without wildcards`);
    return { kind, name, topic, jobs, jobsText };
  }
  const rule: AgentRule = { kind: kind as AgentRule['kind'], name, forMs: seconds(r.for, `${at}: "for"`, 0), jobs, jobsText };
  if (kind === 'load') {
    if (r.above !== undefined) rule.above = num(r.above, `${at}: "above"`);
    if (r.below !== undefined) rule.below = num(r.below, `${at}: "below"`);
  } else if (kind === 'memFree') {
    rule.below = bytes(r.below, `${at}: "below"`);
  } else {
    if (typeof r.signal !== 'string' || !r.signal) throw new UsageError(`${at}: "signal" must name a signal (e.g. "battery")`);
    rule.signal = r.signal;
    if (r.above !== undefined) rule.above = num(r.above, `${at}: "above"`);
    if (r.below !== undefined) rule.below = num(r.below, `${at}: "below"`);
    if (r.equals !== undefined) {
      if (!['string', 'number', 'boolean'].includes(typeof r.equals)) throw new UsageError(`${at}: "equals" must be a string, number or boolean`);
      rule.equals = r.equals as string | number | boolean;
    }
  }
  if (rule.above === undefined && rule.below === undefined && rule.equals === undefined) throw new UsageError(`${at}: say when it holds ("above", "below"${kind === 'signal' ? ' or "equals"' : ''})`);
  return rule;
}

/**
 * A rules file's text, checked.
 * @throws UsageError naming the file and what is wrong
 */
export function parseRuleSet(text: string, file: string): RuleSet {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--rules ${file}: not JSON: ${(error as Error).message}`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new UsageError(`--rules ${file}: expected a JSON object with "rules"`);
  const doc = o as Record<string, unknown>;
  for (const key of Object.keys(doc)) if (!['interval', 'cooldown', 'rules'].includes(key)) throw new UsageError(`--rules ${file}: unknown field "${key}" (it takes interval, cooldown, rules)`);
  if (!Array.isArray(doc.rules)) throw new UsageError(`--rules ${file}: "rules" must be a list`);
  if (doc.rules.length > 256) throw new UsageError(`--rules ${file}: at most 256 rules`);
  const rules = doc.rules.map((r, i) => parseRule(r, `--rules ${file}: rule ${i + 1}`));
  const names = new Set<string>();
  for (const r of rules) {
    if (names.has(r.name)) throw new UsageError(`--rules ${file}: two rules are named ${r.name}`);
    names.add(r.name);
  }
  const intervalMs = seconds(doc.interval, `--rules ${file}: "interval"`, DEFAULT_INTERVAL_MS);
  if (intervalMs < 100) throw new UsageError(`--rules ${file}: "interval" must be at least 0.1 s`);
  return { intervalMs, cooldownMs: seconds(doc.cooldown, `--rules ${file}: "cooldown"`, DEFAULT_COOLDOWN_MS), rules };
}

/** What an agent rule sees now: whether it holds, and the reading for the log (`load 0.95 > 0.75`). */
export function evaluate(rule: AgentRule, agent: FleetAgent, signals: Readonly<Record<string, string | number | boolean>>): { holds: boolean; reading: string } {
  let value: string | number | boolean | undefined;
  let label: string;
  if (rule.kind === 'load') { value = agent.load ? Math.round(busyness(agent) * 100) / 100 : undefined; label = 'load'; }
  else if (rule.kind === 'memFree') { value = agent.load?.memFree; label = 'free memory'; }
  else { value = signals[rule.signal as string]; label = `signal ${rule.signal}`; }
  if (value === undefined) return { holds: false, reading: `${label} unknown` };
  if (rule.equals !== undefined) return { holds: value === rule.equals, reading: `${label} = ${JSON.stringify(value)}` };
  if (typeof value !== 'number') return { holds: false, reading: `${label} = ${JSON.stringify(value)} (not a number)` };
  const shown = rule.kind === 'memFree' ? `${Math.round(value / 1024 ** 2)} MiB` : String(value);
  if (rule.above !== undefined && value > rule.above) return { holds: true, reading: `${label} ${shown} > ${rule.above}` };
  if (rule.below !== undefined && value < rule.below) return { holds: true, reading: `${label} ${shown} < ${rule.kind === 'memFree' ? `${Math.round(rule.below / 1024 ** 2)} MiB` : rule.below}` };
  return { holds: false, reading: `${label} ${shown}` };
}

/** The agent a follow topic's message names: its text, or `{"agent": NAME}`; undefined when it names none. */
export function followTarget(payload: Buffer): string | undefined {
  const text = payload.toString().trim();
  let name: unknown = text;
  if (text.startsWith('{')) {
    try {
      name = (JSON.parse(text) as Record<string, unknown>).agent;
    } catch {
      return undefined;
    }
  }
  return typeof name === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) ? name : undefined;
}
