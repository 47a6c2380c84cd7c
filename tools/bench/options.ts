/**
 * Command-line options of the benchmarks that take `--name value` pairs, read one way for
 * all of them (warmup.ts and detach-cost.ts each carried a copy).
 * @module
 */

/** Every value given for `name` (an option may be repeated, e.g. `--dist A --dist B`). */
export function optionValues(name: string): string[] {
  const out: string[] = [];
  process.argv.forEach((a, i) => { if (a === name && process.argv[i + 1] !== undefined) out.push(process.argv[i + 1]!); });
  return out;
}

/** The positive number given for `name`, or `fallback`; anything else ends `tool` with a usage error (status 2). */
export function positiveNumber(tool: string, name: string, fallback: number): number {
  const [text] = optionValues(name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(n > 0)) {
    process.stderr.write(`${tool}: ${name} needs a positive number, not ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return n;
}
