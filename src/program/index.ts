export { loadModule, loadModuleFile } from './load.ts';
export { Program } from './program.ts';
export type { ProgramOptions } from './program.ts';
