/**
 * wasmig in a browser: the library API of `index.ts` (decoder, validator, interpreter,
 * the native tier on the page's own WebAssembly, snapshots, WASI) built for pages by
 * `npm run build:browser` into `dist/browser/wasmig.js`, an ES module with no Node
 * built-in in it. Files with a `.browser.ts` twin are replaced by it in that build
 * (package.json `browser` says the same to other bundlers): the snapshot layer's platform
 * (`portablePlatform`: sha-256 from @noble/hashes, CRC-32 and compares in JavaScript),
 * WASI's system (clocks from `performance`, no files yet), the native tier's background
 * rewrite (on the page's thread) and disk cache (none). See README.md, "In a browser".
 * @module
 */
export * from './index.ts';
export { portablePlatform } from './snapshot/platform-portable.ts';
