export { FunctionValidator, UNKNOWN } from './function-validator.ts';
export type { ControlFrame } from './function-validator.ts';
export { buildModuleContext } from './module-context.ts';
export type { ModuleContext } from './module-context.ts';
export { validateModule, validateFunctionBody } from './validate-module.ts';
export type { ValidateOptions } from './validate-module.ts';
export { walkBody } from './body-walk.ts';
export type { BodyVisitor } from './body-walk.ts';
