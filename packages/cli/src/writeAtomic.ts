import { rename, writeFile } from 'node:fs/promises';

/** Writes a file atomically (temporary name, then rename): readers (node_exporter's textfile collector, a browser) never see half a file. */
export async function writeAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
