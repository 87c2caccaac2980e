// A Node.js module loader (node --loader) that refuses to load the client library or undici: a
// process run with it fails as soon as something imports them. The CLI's help and usage paths
// must not (they would pay for importing the library for nothing). The CLI runs from its bundle
// (packages/cli/dist/bundle/: the library is its `client.js` entry, undici inside it), the
// library's own dist/ from the package name.
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const url = resolved.url;
  if (
    specifier === '@flathub-fetch/client' ||
    specifier === 'undici' ||
    url.endsWith('/dist/bundle/client.js') ||
    url.includes('/node_modules/undici/')
  ) {
    throw new Error(`refused: @flathub-fetch/client (${url}) imported from ${context.parentURL}`);
  }
  return resolved;
}
