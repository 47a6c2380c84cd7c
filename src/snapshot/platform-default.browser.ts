/**
 * The platform the snapshot layer uses when none is given, in browser builds: the
 * portable one (this file replaces `platform-default.ts` there).
 */
export { portablePlatform as defaultPlatform } from './platform-portable.ts';
