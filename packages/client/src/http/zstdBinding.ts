/**
 * The zstd-napi native binding, loaded on first use. Null when it cannot be loaded (the package
 * compiles or downloads its binary in an install script, which a user may have disabled); then
 * the client simply does not offer zstd in Accept-Encoding.
 */
import { createRequire } from 'node:module';
import createDebug from 'debug';

const debug = createDebug('flathub-fetch:http');

export interface ZstdBinding {
  DCtx: new () => { decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number] };
  dStreamOutSize(): number;
}

let cached: ZstdBinding | null | undefined;

export function zstdBinding(): ZstdBinding | null {
  if (cached === undefined) {
    try {
      cached = createRequire(import.meta.url)('zstd-napi/binding') as ZstdBinding;
    } catch (err) {
      debug('zstd unavailable (%s); not offering it', (err as Error).message);
      cached = null;
    }
  }
  return cached;
}
