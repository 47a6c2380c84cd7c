export { loadModule, loadModuleFile } from './load.ts';
export type { KnownFacts } from './load.ts';
export { Program, ProgramShell } from './program.ts';
export type { ProgramOptions, ResumeOptions, SnapshotOptions } from './program.ts';
export { defaultEngines, EngineSet } from './engines.ts';
