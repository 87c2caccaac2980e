// A Node.js module loader (node --loader) that refuses to load the client library or undici: a
// process run with it fails as soon as something imports them. The CLI's help and usage paths
// must not (they would pay ~0.2 s of start-up for nothing).
export async function resolve(specifier, context, next) {
  if (specifier === '@flathub-fetch/client' || specifier === 'undici') {
    throw new Error(`refused: ${specifier} imported from ${context.parentURL}`);
  }
  return next(specifier, context);
}
