/**
 * The run loops' `switch` must compile to a jump table. V8's bytecode generator builds
 * one only when every case label is a small-integer literal and the labels are dense
 * (their spread below 3 x their count, V8's `switch_table_spread_threshold`);
 * otherwise each instruction walks a chain of comparisons. So the loops spell their
 * labels as literals, each with a comment naming the IR constant, and this test keeps
 * the literals and the constants in agreement.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FastOp, IrOp } from '../../src/compile/index.ts';

const tables: Record<string, Record<string, number>> = { FastOp, IrOp };

for (const file of ['run.ts', 'run-fast.ts']) {
  const source = readFileSync(new URL(`../../src/exec/${file}`, import.meta.url), 'utf8');

  test(`${file}: every case label is an integer literal`, () => {
    const symbolic = source.match(/case [A-Za-z_][\w.]*(?: \+ \w+)?:/g) ?? [];
    assert.equal(symbolic, [], `symbolic labels defeat V8's jump table: ${symbolic.join(', ')}`);
  });

  test(`${file}: named labels agree with the IR tables`, () => {
    let checked = 0;
    for (const m of source.matchAll(/case (0x[0-9a-f]+|\d+): \/\* (FastOp|IrOp)\.(\w+)(?: \+ (0x[0-9a-f]+|\d+))? \*\//g)) {
      const [, literal, table, name, add] = m;
      const expected = tables[table!]![name!]! + (add === undefined ? 0 : Number(add));
      assert.is(Number(literal), expected, `${table}.${name}${add ? ` + ${add}` : ''}`);
      checked++;
    }
    assert.ok(checked >= 8, `found ${checked} named labels`);
  });

  test(`${file}: labels are dense enough for a jump table`, () => {
    const values = new Set([...source.matchAll(/case (0x[0-9a-f]+|\d+):/g)].map((m) => Number(m[1])));
    const spread = Math.max(...values) - Math.min(...values);
    assert.ok(spread < 3 * values.size, `spread ${spread} for ${values.size} cases`);
  });
}

test.run();
