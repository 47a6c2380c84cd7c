import { checkName, FleetClient, topics } from '../../agent/index.ts';
import { UsageError, WasmigError } from '../../errors/index.ts';
import { integer, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';
import { CONNECTION_OPTIONS, connectionOf } from './fleet-options.ts';

export const DRAIN_OPTIONS: OptionSpec[] = [{ name: 'drain-timeout', value: true }, ...CONNECTION_OPTIONS];

/** Time the answer may take beyond the drain's own deadline (a move past its pause completes). */
const ANSWER_GRACE_MS = 90_000;

/**
 * `wasmig agent drain NAME`: asks the agent to move every job away and stop, then prints
 * what became of each job; exits 0 when every job moved (or ended), 1 when some stayed.
 */
export async function drainCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, DRAIN_OPTIONS, false);
  const [name, ...extra] = p.positionals;
  if (!name) throw new UsageError('missing NAME: wasmig agent drain NAME [--drain-timeout S]');
  if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  checkName(name, 'agent name');
  const timeout = integer(p, 'drain-timeout', 0);
  const { connection, key } = connectionOf(p);
  const client = await FleetClient.connect({ connection, key, log: (line) => process.stderr.write(`wasmig: ${line}\n`) });
  try {
    const status = await client.agentStatus(name);
    if (!status?.online) throw new WasmigError('ERR_AGENT', `agent ${name} is ${status ? 'offline' : 'not known to the broker'}`);
    const body: { type: 'drain'; timeoutMs?: number } = { type: 'drain' };
    if (timeout !== undefined) body.timeoutMs = timeout * 1000;
    const r = await client.peer.request(topics.agentInbox(name), body, { timeoutMs: (timeout ?? 30) * 1000 + ANSWER_GRACE_MS, who: `agent ${name}` });
    if (!r.ok) throw new WasmigError('ERR_DRAIN', `agent ${name} did not drain: ${r.message ?? r.code}`);
    const lines = Array.isArray(r.data?.lines) ? (r.data.lines as unknown[]).filter((l): l is string => typeof l === 'string') : [];
    for (const line of lines) process.stdout.write(`${line}\n`);
    const stayed = [r.data?.left, r.data?.toStandbys].some((list) => Array.isArray(list) && list.length > 0);
    return stayed ? 1 : 0;
  } finally {
    await client.close();
  }
}
