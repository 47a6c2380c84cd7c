import { readFileSync } from 'node:fs';
import '../src/native/index.ts';
import { loadModule, Program } from '../src/program/index.ts';
import { Precopy } from '../src/agent/precopy-source.ts';
import { Arrival } from '../src/agent/precopy-target.ts';
const file = process.argv[2] ?? 'coremark/coremark.wasm';
const compiled = loadModule(readFileSync(file));
const p = Program.instantiate(compiled, { args: ['c', ...process.argv.slice(3)], tier: 'native', stdout: () => {}, stderr: () => {} });
p.start('_start');
p.run({ timeSliceMs: 300 });
for (let k = 0; k < 4; k++) {
  const pc = new Precopy(p, undefined);
  const arrival = new Arrival(compiled, undefined, { tier: 'native', stdout: () => {}, stderr: () => {} });
  arrival.apply(pc.round().deltas);
  p.run({ timeSliceMs: 50 });
  let t = performance.now();
  const f = pc.final();
  const tf = performance.now() - t; t = performance.now();
  const r = arrival.complete(f.snapshot, f.deltas, f.digests);
  const tc = performance.now() - t; t = performance.now();
  r.program.run({ timeSliceMs: 1 });
  const tr = performance.now() - t;
  console.log(`final ${tf.toFixed(2)} complete ${tc.toFixed(2)} first slice ${tr.toFixed(2)}`);
}
