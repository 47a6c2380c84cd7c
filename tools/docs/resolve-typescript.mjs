/**
 * Module resolution hook (see typescript-for-typedoc.mjs): an import of `typescript` from
 * inside TypeDoc resolves to the alias `typescript-for-typedoc`; every other import
 * resolves as usual.
 */
export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'typescript' && context.parentURL?.includes('/node_modules/typedoc/')) {
    return nextResolve('typescript-for-typedoc', context);
  }
  return nextResolve(specifier, context);
}
