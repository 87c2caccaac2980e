/**
 * The library, loaded on first use: `flathub-fetch --help`, `<command> --help` and usage errors
 * never pay for importing it (undici, liblzma bindings, … ≈ 0.3 s here).
 */
export const loadClient = () => import('@flathub-fetch/client');
export const loadTesting = () => import('@flathub-fetch/client/testing');
export type Client = Awaited<ReturnType<typeof loadClient>>;
