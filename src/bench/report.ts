/**
 * Reading the report a CoreMark run prints, ours (`coremark/`) or a standard build:
 * both print the same lines (`Iterations/Sec   : ...`, `seedcrc          : 0x....`,
 * `[0]crclist       : 0x....`, `Correct operation validated. ...`).
 */

/** The published CRCs of the first iteration, by seed set (keyed by the seed CRC). */
export const KNOWN_RUNS: ReadonlyMap<number, { title: string; list: number; matrix: number; state: number }> = new Map([
  [0xe9f5, { title: '2K performance', list: 0xe714, matrix: 0x1fd7, state: 0x8e3a }],
  [0x18f2, { title: '2K validation', list: 0xe3c1, matrix: 0x0747, state: 0x8d84 }],
  [0x8a02, { title: '6K performance', list: 0xd4b0, matrix: 0xbe52, state: 0x5e47 }],
  [0x7b05, { title: '6K validation', list: 0x3340, matrix: 0x1199, state: 0x39bf }],
  [0x4eaf, { title: 'profile generation', list: 0x6a79, matrix: 0x5608, state: 0xe5a4 }],
]);

/**
 * The arguments every engine gets: seeds 0, 0, 0x66 (the 2K performance run), the
 * iteration count, then `7 1 2000` as CoreMark's own makefile passes them. A standard
 * build reads argv[1..5] (seeds, iterations, the algorithm mask 7); ours reads
 * argv[1..4] and ignores the rest, so one argument vector fits both.
 */
export function coremarkArgs(iterations: number): string[] {
  return ['0x0', '0x0', '0x66', String(iterations), '7', '1', '2000'];
}

export interface CoreMarkReport {
  /** Iterations the program says it ran (undefined when it printed no report). */
  iterations: number | undefined;
  /** Its timed region, in seconds. */
  seconds: number | undefined;
  iterationsPerSec: number | undefined;
  /** The CRCs matched the published ones for the seed set (or, without CRC lines, the program said so). */
  validated: boolean;
  /** Why `validated` is false, when it is. */
  problem: string | undefined;
  crcs: { seed?: number; list: number[]; matrix: number[]; state: number[]; final: number[] };
}

function field(text: string, label: RegExp): string | undefined {
  const m = new RegExp(`^${label.source}\\s*:\\s*(\\S+)`, 'm').exec(text);
  return m?.[1];
}

function numberField(text: string, label: RegExp): number | undefined {
  const v = field(text, label);
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function crcList(text: string, name: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(new RegExp(`^\\[\\d+\\]crc${name}\\s*:\\s*0x([0-9a-fA-F]+)`, 'gm'))) out.push(parseInt(m[1], 16));
  return out;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

/** Parses a CoreMark report from the program's stdout. */
export function parseReport(stdout: string): CoreMarkReport {
  const iterations = numberField(stdout, /Iterations/);
  const seconds = numberField(stdout, /Total time \(secs\)/);
  let iterationsPerSec = numberField(stdout, /Iterations\/Sec/);
  // Builds without floating point print whole seconds; compute the rate when it is missing.
  if (iterationsPerSec === undefined && iterations !== undefined && seconds) iterationsPerSec = iterations / seconds;
  const seedText = field(stdout, /seedcrc/);
  const crcs = {
    seed: seedText !== undefined && /^0x[0-9a-f]+$/i.test(seedText) ? parseInt(seedText, 16) : undefined,
    list: crcList(stdout, 'list'),
    matrix: crcList(stdout, 'matrix'),
    state: crcList(stdout, 'state'),
    final: crcList(stdout, 'final'),
  };
  const said = /^Correct operation validated\./m.test(stdout);
  const errorLine = /^\[\d+\]ERROR! (?:list|matrix|state) crc.*$/m.exec(stdout)?.[0];

  let problem: string | undefined;
  if (iterations === undefined && iterationsPerSec === undefined) {
    problem = 'no CoreMark report in the output';
  } else if (errorLine !== undefined) {
    problem = errorLine.replace(/^\[\d+\]/, '');
  } else if (crcs.seed === undefined || crcs.list.length === 0) {
    // No CRC lines to check: take the program's word for it. (A standard build also
    // reports a run under 10 s as an error; that does not make its CRCs wrong.)
    if (!said) problem = 'the program did not report correct operation';
  } else {
    const known = KNOWN_RUNS.get(crcs.seed);
    if (!known) {
      problem = `unknown seed set (seedcrc ${hex(crcs.seed)}): cannot validate`;
    } else {
      for (const [name, want, got] of [['list', known.list, crcs.list], ['matrix', known.matrix, crcs.matrix], ['state', known.state, crcs.state]] as const) {
        const bad = got.length === 0 ? 'missing' : got.find((c) => c !== want);
        if (bad !== undefined) {
          problem = `${name} crc ${typeof bad === 'number' ? hex(bad) : bad}, should be ${hex(want)}`;
          break;
        }
      }
    }
  }
  return { iterations, seconds, iterationsPerSec, validated: problem === undefined, problem, crcs };
}
