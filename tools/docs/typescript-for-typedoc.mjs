/**
 * Lets TypeDoc read the sources with the TypeScript it supports. The project compiles
 * with TypeScript 7 (the native compiler), which has no JavaScript compiler API; TypeDoc
 * needs that API, so `typescript-for-typedoc` (an npm alias of TypeScript 5.9) is
 * installed beside it, and this hook hands it to TypeDoc's own imports of `typescript`
 * only. Loaded with `node --import` by `npm run docs`.
 */
import { register } from 'node:module';

register('./resolve-typescript.mjs', import.meta.url);
