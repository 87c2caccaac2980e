import { read } from 'node:fs';

/** Reads `into.length` bytes at `position` of `fd` (a loop: one read may return fewer). */
export async function readAt(fd: number, into: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const n = await new Promise<number>((resolve, reject) =>
      read(fd, into, done, into.length - done, position + done, (err, bytes) => (err === null ? resolve(bytes) : reject(err))),
    );
    if (n === 0) throw new Error(`the file ended at ${position + done} bytes`);
    done += n;
  }
}
