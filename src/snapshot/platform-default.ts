/**
 * The platform the snapshot layer uses when none is given: Node's. Browser builds map
 * this file to `platform-default.browser.ts` (package.json `browser`, tools/build-browser.ts).
 */
export { nodePlatform as defaultPlatform } from './platform-node.ts';
