/**
 * The structure the JavaScript tier writes: loops from backward branches and labelled
 * blocks from forward ones, nested (no two overlap without one holding the other), the
 * entries (start, loop starts, blocks after calls), and each checkpoint's stretch: at
 * least the fuel of every path from it to the next checkpoint.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fastCode } from '../../../src/exec/index.ts';
import { BlockGraph } from '../../../src/exec/js-tier/block-graph.ts';
import { loadModule } from '../../../src/program/index.ts';
import { ValType } from '../../../src/wasm/types.ts';
import { assemble } from '../../helpers/assemble.ts';
import { ModuleBuilder } from '../../helpers/module-builder.ts';

const { i32 } = ValType;

function graphOf(body: string, locals = [i32, i32]): BlockGraph {
  const b = new ModuleBuilder();
  const t = b.type([i32], [i32]);
  const leaf = b.func(t, assemble('local.get 0 end'));
  b.func(t, assemble(body.replaceAll('LEAF', String(leaf))), locals);
  const compiled = loadModule(b.build());
  return new BlockGraph(fastCode(compiled.functions[1]).code);
}

function assertNested(g: BlockGraph): void {
  for (const a of g.constructs) {
    for (const c of g.constructs) {
      const crosses = a.start < c.start && c.start <= a.end && a.end < c.end;
      assert.not.ok(crosses, `${a.kind} ${a.start}-${a.end} and ${c.kind} ${c.start}-${c.end} overlap`);
    }
  }
}

// Two loops, the inner left by a branch to after the outer, and a call in the outer.
const NESTED = `
  block
    loop
      local.get 1 call LEAF local.set 2
      loop
        local.get 2 i32.const 1 i32.add local.tee 2
        i32.const 100 i32.gt_u br_if 2
        local.get 2 i32.const 7 i32.and br_if 0
      end
      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_u br_if 0
    end
  end
  local.get 2 end`;

test('loops and labelled blocks nest; entries are the start, loop starts and the blocks after calls', () => {
  const g = graphOf(NESTED);
  assert.is(g.failure, '');
  assertNested(g);
  const loops = g.constructs.filter((c) => c.kind === 'loop');
  assert.is(loops.length, 2);
  const [outer, inner] = loops.sort((a, b) => a.start - b.start);
  assert.ok(outer.start < inner.start && inner.end <= outer.end, 'the inner loop is inside the outer one');
  for (const c of loops) assert.ok(g.entries.has(c.start), `loop start ${c.start} is an entry`);
  assert.ok(g.entries.has(0));
  // The block after the call: an entry (the loop comes back there).
  const afterCall = g.blocks.findIndex((b, i) => i > 0 && g.blocks[i - 1].instructions.some((pc) => g.code[pc] === 0xdb));
  assert.ok(afterCall > 0 && g.entries.has(afterCall), 'the block after the call is an entry');
  assert.equal([...g.entries].sort((a, b) => a - b), [...new Set([0, afterCall, ...loops.map((c) => c.start)])].sort((a, b) => a - b));
});

test('a checkpoint\'s stretch covers every path to the next checkpoint', () => {
  const g = graphOf(NESTED);
  for (const [at, stretch] of g.stretch) {
    // Walk every path from `at` (depth first) to the next checkpoint or a way out.
    const walk = (b: number, spent: number): void => {
      const block = g.blocks[b];
      const total = spent + block.cost;
      assert.ok(total <= stretch, `from ${at}: a path costs ${total} > ${stretch}`);
      const next = block.fallsThrough ? [...block.targets, b + 1] : block.targets;
      for (const t of next) if (!g.checkpoints.has(t)) walk(t, total);
    };
    walk(at, 0);
    assert.ok(stretch >= g.blocks[at].cost);
  }
});

test('code after a loop\'s last backward branch, inside it, goes back to an inner loop: the outer loop holds it', () => {
  // The outer loop's last `br 0` comes before code that branches back to the inner loop
  // (br 1 from a block after it): as a Wasm loop, the outer one ends after that code.
  const g = graphOf(`
    loop
      local.get 1 i32.const 1 i32.add local.set 1
      loop
        local.get 2 i32.const 1 i32.add local.tee 2
        i32.const 5 i32.lt_u br_if 0
        local.get 1 i32.const 50 i32.lt_u br_if 1
        local.get 2 i32.const 9 i32.lt_u br_if 0
      end
    end
    local.get 1 end`);
  assert.is(g.failure, '');
  assertNested(g);
});

test.run();
