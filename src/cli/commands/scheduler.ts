import { readFileSync } from 'node:fs';
import { FleetClient, parseRule, parseRuleSet, Scheduler } from '../../agent/index.ts';
import type { RuleSet } from '../../agent/index.ts';
import { UsageError } from '../../errors/index.ts';
import { flag, integer, one, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionOf } from './fleet-options.ts';
import { StopSignals } from './stop-signals.ts';

export const SCHEDULER_OPTIONS: OptionSpec[] = [
  { name: 'rules', value: true },
  { name: 'follow', value: true, repeat: true },
  { name: 'jobs', value: true },
  { name: 'interval', value: true },
  { name: 'cooldown', value: true },
  { name: 'name', value: true },
  { name: 'once' },
  ...CONNECTION_OPTIONS,
];

export const SCHEDULER_USAGE = `usage: wasmig scheduler --rules FILE [OPTIONS]
       wasmig scheduler --follow TOPIC [--jobs GLOB] [OPTIONS]

Watches the fleet and moves jobs when a rule says so: an agent whose load (CPU
per core, from its heartbeats) stays above a threshold for a while, whose free
memory falls below a floor, or whose host signal (its --signal-file, or a JSON
object retained on wasmig/v1/agents/NAME/signals) says so, sheds its jobs, one
per look, to the least loaded agents where no rule holds; a job with a follow
rule moves to the agent named by the last message on its topic. Each move is a
normal migration, logged with its reason and shown by wasmig ps (LAST MOVE).
A job that moved, for any reason, stays put for the cool-down. Any number of
schedulers may run at once: a move is asked of the agent that has the job,
which refuses a second one while the first is under way. Stops on Ctrl-C.

The rules file (JSON):
  {"interval": 2, "cooldown": 60, "rules": [
    {"name": "busy", "if": "load", "above": 0.75, "for": 10},
    {"name": "low-memory", "if": "memFree", "below": "256M", "for": 5},
    {"name": "battery", "if": "signal", "signal": "battery", "below": 20},
    {"name": "leaving", "if": "signal", "signal": "leaving", "equals": true},
    {"name": "follow-ann", "if": "follow", "topic": "plant/ann/near", "jobs": "nav-*"}]}
"for" is seconds the condition must hold (default 0), "jobs" a glob on job ids
(default every job); a follow topic's message is an agent name or {"agent": NAME}.

options:
  --rules FILE          the rules
  --follow TOPIC        also: jobs follow the agent named on TOPIC (repeatable)
  --jobs GLOB           which jobs --follow moves (default every job)
  --interval S          seconds between looks (default: the file's, else 2)
  --cooldown S          seconds a job that moved stays put (default: the file's, else 60)
  --name NAME           this scheduler's name in logs and move reasons (default scheduler-PID)
  --once                look once, make the moves, and exit (a rule with a "for"
                        cannot have held that long in one look)

${CONNECTION_HELP}`;

/** The rules of a command line: the file's, the --follow ones, the overrides. */
export function rulesOf(p: ReturnType<typeof parseArgs>): RuleSet {
  const file = one(p, 'rules');
  let rules: RuleSet;
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`--rules ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
    rules = parseRuleSet(text, file);
  } else {
    rules = parseRuleSet('{"rules": []}', '(none)');
  }
  const follows = p.options.get('follow') ?? [];
  const jobs = one(p, 'jobs');
  if (jobs !== undefined && !follows.length) throw new UsageError('--jobs needs --follow TOPIC');
  follows.forEach((topic, i) => {
    rules.rules.push(parseRule({ if: 'follow', name: `follow-${i + 1}`, topic, ...(jobs === undefined ? {} : { jobs }) }, `--follow ${topic}`));
  });
  if (!rules.rules.length) throw new UsageError(`no rules: give --rules FILE or --follow TOPIC\n\n${SCHEDULER_USAGE}`);
  const interval = integer(p, 'interval', 1);
  if (interval !== undefined) rules.intervalMs = interval * 1000;
  const cooldown = integer(p, 'cooldown', 0);
  if (cooldown !== undefined) rules.cooldownMs = cooldown * 1000;
  return rules;
}

/** `wasmig scheduler`: runs until stopped (or one look with --once). */
export async function schedulerCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, SCHEDULER_OPTIONS, false);
  if (p.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(p.positionals[0])}\n\n${SCHEDULER_USAGE}`);
  const rules = rulesOf(p);
  const name = one(p, 'name') ?? `scheduler-${process.pid}`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new UsageError(`--name ${JSON.stringify(name)}: letters, digits, . _ - (at most 64)`);
  const { connection, key } = connectionOf(p);
  const log = (line: string): void => { process.stderr.write(`${new Date().toISOString()} scheduler ${name}: ${line}\n`); };
  const signals = new StopSignals();
  const client = await FleetClient.connect({ connection, key, log });
  try {
    const scheduler = new Scheduler({ peer: client.peer, rules, name, log });
    if (flag(p, 'once')) {
      await scheduler.lookOnce();
      return 0;
    }
    const running = scheduler.run();
    const why = await Promise.race([signals.next(), running.then(() => 'ended')]);
    scheduler.stop();
    await running;
    log(`stopped (${why})`);
    return 0;
  } finally {
    signals.close();
    await client.close();
  }
}
