import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';

import { DiskRewriteCache, rewriteModule } from './src/native/index.ts';
import { loadModule } from './src/program/index.ts';
const bytes = new Uint8Array(readFileSync('/tmp/fs-sqlite/sqlite.wasm'));
const dir = '/tmp/fs-cache2';
new DiskRewriteCache({ dir }).store(bytes, {}, rewriteModule(loadModule(bytes).context, {}));
const f = dir + '/' + readdirSync(dir).find((n) => n.endsWith('.rw'));
let t = performance.now();
const lap = (l: string) => { const n = performance.now(); console.log(l.padEnd(20), (n - t).toFixed(1)); t = n; };
const file = readFileSync(f); lap('read ' + file.length);
createHash('sha256').update(file.subarray(44)).digest(); lap('sha');
const o = {functions: []} as any; lap("-");
const c = new DiskRewriteCache({ dir }); t = performance.now(); c.load(bytes, {}); lap('full load');
c.load(bytes, {}); lap('full load warm');
import { decodeRewrite } from './src/native/rewrite-codec.ts';
for (let k = 0; k < 3; k++) { t = performance.now(); decodeRewrite(file.subarray(44)); lap('decodeRewrite'); }
for (let k = 0; k < 3; k++) { t = performance.now(); new DiskRewriteCache({ dir }).key(bytes, {}); lap('key fresh'); }
