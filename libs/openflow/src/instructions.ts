/** Instructions (§7.2.4): ofp_instruction_* structures, decoded and encoded side by side. */
import { actionsLength, decodeActions, encodeActions, Action, wellFormedActions } from './actions.js';
import { OFPIT } from './constants.js';
import { OFPBIC, OFPET, OfpError } from './errors.js';
import { readU64, Reader, u32At, Writer } from './wire.js';

type T = typeof OFPIT;

export interface GotoTableInstruction {
  type: T['GOTO_TABLE'];
  tableId: number;
}
export interface WriteMetadataInstruction {
  type: T['WRITE_METADATA'];
  metadata: bigint;
  metadataMask: bigint;
}
export interface ActionsInstruction {
  type: T['WRITE_ACTIONS'] | T['APPLY_ACTIONS'] | T['CLEAR_ACTIONS'];
  actions: Action[];
}
export interface MeterInstruction {
  type: T['METER'];
  meterId: number;
}
/** Kept opaque: `data` is everything after the experimenter id. */
export interface ExperimenterInstruction {
  type: T['EXPERIMENTER'];
  experimenter: number;
  data: Buffer;
}

export type Instruction =
  | GotoTableInstruction
  | WriteMetadataInstruction
  | ActionsInstruction
  | MeterInstruction
  | ExperimenterInstruction;

function badLen(type: number, len: number, at: number): OfpError {
  return new OfpError(OFPET.BAD_INSTRUCTION, OFPBIC.BAD_LEN, `instruction type ${type} has length ${len}`, at);
}

/** Decodes one instruction; `r` is positioned at its header. */
export function decodeInstruction(r: Reader): Instruction {
  const start = r.pos;
  r.need(4, OFPET.BAD_INSTRUCTION, OFPBIC.BAD_LEN, 'instruction header');
  const b = r.buf;
  const type = (b[start] << 8) | b[start + 1];
  const len = (b[start + 2] << 8) | b[start + 3];
  r.pos = start + 4;
  if (len < 4) throw badLen(type, len, start);
  r.need(len - 4, OFPET.BAD_INSTRUCTION, OFPBIC.BAD_LEN, 'instruction');
  // The body, [p, end), is read by offset: it is known to be there.
  const p = start + 4;
  const end = start + len;
  r.pos = end;
  switch (type) {
    case OFPIT.GOTO_TABLE:
      if (len !== 8) throw badLen(type, len, start);
      return { type, tableId: b[p] };
    case OFPIT.WRITE_METADATA:
      if (len !== 24) throw badLen(type, len, start);
      return { type, metadata: readU64(b, p + 4), metadataMask: readU64(b, p + 12) };
    case OFPIT.WRITE_ACTIONS:
    case OFPIT.APPLY_ACTIONS:
    case OFPIT.CLEAR_ACTIONS:
      if (len < 8 || len % 8 !== 0) throw badLen(type, len, start);
      return { type, actions: decodeActions(new Reader(b, p + 4, end)) };
    case OFPIT.METER:
      if (len !== 8) throw badLen(type, len, start);
      return { type, meterId: u32At(b, p) };
    case OFPIT.EXPERIMENTER:
      if (len < 8 || len % 8 !== 0) throw badLen(type, len, start);
      return { type, experimenter: u32At(b, p), data: Buffer.from(b.subarray(p + 4, end)) };
    default:
      throw new OfpError(OFPET.BAD_INSTRUCTION, OFPBIC.UNKNOWN_INST, `unknown instruction type ${type}`, start);
  }
}

export function instructionLength(i: Instruction): number {
  switch (i.type) {
    case OFPIT.WRITE_METADATA:
      return 24;
    case OFPIT.WRITE_ACTIONS:
    case OFPIT.APPLY_ACTIONS:
    case OFPIT.CLEAR_ACTIONS:
      return 8 + actionsLength(i.actions);
    case OFPIT.EXPERIMENTER:
      return 8 + i.data.length;
    default:
      return 8;
  }
}

export function encodeInstruction(i: Instruction, w: Writer): void {
  const b = w.buf;
  const start = w.pos;
  const type = i.type;
  b[start] = type >>> 8;
  b[start + 1] = type;
  w.pos = start + 4;
  // The length is patched in at the end: measuring an action list first would walk it twice.
  switch (i.type) {
    case OFPIT.GOTO_TABLE:
      w.u8(i.tableId);
      w.zeros(3);
      break;
    case OFPIT.WRITE_METADATA:
      w.zeros(4);
      w.u64(i.metadata);
      w.u64(i.metadataMask);
      break;
    case OFPIT.WRITE_ACTIONS:
    case OFPIT.APPLY_ACTIONS:
    case OFPIT.CLEAR_ACTIONS:
      w.zeros(4);
      encodeActions(i.actions, w);
      break;
    case OFPIT.METER:
      w.u32(i.meterId);
      break;
    case OFPIT.EXPERIMENTER:
      w.u32(i.experimenter);
      w.bytes(i.data);
      break;
  }
  const len = w.pos - start;
  b[start + 2] = len >>> 8;
  b[start + 3] = len;
}

/**
 * Would decodeInstructions take `b[p, end)`, instructions filling it
 * exactly? False also for experimenter instructions and for actions
 * wellFormedActions does not follow (decode to find out).
 */
export function wellFormedInstructions(b: Uint8Array, p: number, end: number): boolean {
  while (p < end) {
    if (p + 4 > end) return false;
    const type = (b[p] << 8) | b[p + 1];
    const len = (b[p + 2] << 8) | b[p + 3];
    if (len < 4 || p + len > end) return false;
    switch (type) {
      case OFPIT.GOTO_TABLE:
      case OFPIT.METER:
        if (len !== 8) return false;
        break;
      case OFPIT.WRITE_METADATA:
        if (len !== 24) return false;
        break;
      case OFPIT.WRITE_ACTIONS:
      case OFPIT.APPLY_ACTIONS:
      case OFPIT.CLEAR_ACTIONS:
        if (len < 8 || len % 8 !== 0 || !wellFormedActions(b, p + 8, p + len)) return false;
        break;
      default:
        return false;
    }
    p += len;
  }
  return true;
}

export function decodeInstructions(r: Reader): Instruction[] {
  const out: Instruction[] = [];
  while (r.pos < r.end) out.push(decodeInstruction(r));
  return out;
}

export function instructionsLength(list: readonly Instruction[]): number {
  let len = 0;
  for (let i = 0; i < list.length; i++) len += instructionLength(list[i]);
  return len;
}

export function encodeInstructions(list: readonly Instruction[], w: Writer): void {
  for (let i = 0; i < list.length; i++) encodeInstruction(list[i], w);
}
