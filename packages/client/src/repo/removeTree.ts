/**
 * `rm -rf` that also copes with read-only directories (a checkout applies modes such as 0555
 * that would make a plain recursive removal fail for a non-root user). Never follows symlinks.
 */
import { chmod, lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
    return;
  } catch {
    // Fall through: make every directory writable, then retry.
  }
  await makeWritable(path);
  await rm(path, { recursive: true, force: true });
}

async function makeWritable(path: string): Promise<void> {
  const st = await lstat(path).catch(() => null);
  if (st === null || !st.isDirectory()) return;
  await chmod(path, 0o700).catch(() => undefined);
  for (const name of await readdir(path).catch(() => [] as string[])) await makeWritable(join(path, name));
}
