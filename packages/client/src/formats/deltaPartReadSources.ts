/**
 * The local objects a delta part reads from (`r` ops), found by walking its op stream without
 * executing it, so a caller can load them before running the part synchronously. Objects the
 * caller already has are listed too (the executor skips their ops); pass `has` to leave out the
 * sources of objects that will be skipped.
 */
import { FlathubFetchError } from '../errors/FlathubFetchError.js';
import { ErrorCodes } from '../errors/codes.js';
import { type Checksum, checksumFromBytes } from './checksum.js';
import type { DeltaPartPayload } from './DeltaPart.js';
import type { DeltaObjectRef, DeltaPartHeader } from './DeltaSuperblock.js';
import type { WindowData } from './executeDeltaPart.js';
import { ObjectType } from './ObjectType.js';
import { readVarint } from './varint.js';

const ARGS: Record<string, number> = { o: 3, w: 2, r: 1, R: 0, c: 0, B: 2 };

export function deltaPartReadSources(
  header: DeltaPartHeader,
  payload: Pick<DeltaPartPayload, 'ops' | 'data'>,
  has: (o: DeltaObjectRef) => boolean = () => false,
  windowed?: WindowData,
): Set<Checksum> {
  const out = new Set<Checksum>();
  const { ops, data } = payload;
  // With `windowed`: that window's ops only, `data` being its bytes of the blob (as for executeDeltaPart).
  const dataStart = windowed?.window.dataStart ?? 0;
  const opsEnd = windowed?.window.opsEnd ?? ops.length;
  let pc = windowed?.window.pc ?? 0;
  let obj = windowed?.window.fromObject ?? 0;
  let skipping = false;
  const fail = (reason: string): never => {
    throw new FlathubFetchError(ErrorCodes.DELTA_OP, `delta part ${header.index}: op at byte ${pc}: ${reason}`, {
      part: header.index,
      offset: pc,
      op: '?',
      reason,
    });
  };
  const arg = (): number => {
    const r = readVarint(ops, pc);
    if (r === null) return fail('truncated varint');
    pc = r.next;
    return r.value;
  };
  while (pc < opsEnd) {
    const op = String.fromCharCode(ops[pc++] as number);
    if (op === 'S') {
      const ref = header.objects[obj++];
      const n = ref?.type === ObjectType.FILE ? 4 : 2;
      for (let i = 0; i < n; i++) arg();
    } else if (op === 'o') {
      const ref = header.objects[obj];
      skipping = ref !== undefined && has(ref);
      arg();
      arg();
      arg();
    } else if (op === 'r') {
      const off = arg() - dataStart;
      if (off < 0 || off + 32 > data.length) fail(`read-source offset ${off + dataStart} outside the data`);
      if (!skipping) out.add(checksumFromBytes(data.subarray(off, off + 32)));
    } else if (op === 'c') {
      obj++;
      skipping = false;
    } else {
      const n = ARGS[op];
      if (n === undefined) fail(`unknown opcode 0x${op.charCodeAt(0).toString(16)}`);
      for (let i = 0; i < (n as number); i++) arg();
    }
  }
  return out;
}
