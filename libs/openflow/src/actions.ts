/** Actions (§7.2.5): ofp_action_* structures, decoded and encoded side by side. */
import { OFPAT } from './constants.js';
import { OFPBAC, OFPET, OfpError } from './errors.js';
import { decodeOxm, encodeOxm, oxmLength, OxmTlv } from './oxm.js';
import { pad8, Reader, u32At, Writer } from './wire.js';

type T = typeof OFPAT;

export interface OutputAction {
  type: T['OUTPUT'];
  port: number;
  /** Bytes to send to the controller (OFPCML_NO_BUFFER: the whole packet). */
  maxLen: number;
}
/** Actions that carry nothing but their type. */
export interface BareAction {
  type: T['COPY_TTL_OUT'] | T['COPY_TTL_IN'] | T['DEC_MPLS_TTL'] | T['POP_VLAN'] | T['DEC_NW_TTL'] | T['POP_PBB'];
}
export interface SetMplsTtlAction {
  type: T['SET_MPLS_TTL'];
  mplsTtl: number;
}
export interface SetNwTtlAction {
  type: T['SET_NW_TTL'];
  nwTtl: number;
}
/** push_vlan, push_mpls, push_pbb (the tag's ethertype) and pop_mpls (the payload's). */
export interface EthertypeAction {
  type: T['PUSH_VLAN'] | T['PUSH_MPLS'] | T['PUSH_PBB'] | T['POP_MPLS'];
  ethertype: number;
}
export interface SetQueueAction {
  type: T['SET_QUEUE'];
  queueId: number;
}
export interface GroupAction {
  type: T['GROUP'];
  groupId: number;
}
export interface SetFieldAction {
  type: T['SET_FIELD'];
  field: OxmTlv;
}
/** Kept opaque: `data` is everything after the experimenter id, re-encoded as is. */
export interface ExperimenterAction {
  type: T['EXPERIMENTER'];
  experimenter: number;
  data: Buffer;
}

export type Action =
  | OutputAction
  | BareAction
  | SetMplsTtlAction
  | SetNwTtlAction
  | EthertypeAction
  | SetQueueAction
  | GroupAction
  | SetFieldAction
  | ExperimenterAction;

function badLen(type: number, len: number, at: number): OfpError {
  return new OfpError(OFPET.BAD_ACTION, OFPBAC.BAD_LEN, `action type ${type} has length ${len}`, at);
}

/** Decodes one action; `r` is positioned at its header. */
export function decodeAction(r: Reader): Action {
  const start = r.pos;
  r.need(4, OFPET.BAD_ACTION, OFPBAC.BAD_LEN, 'action header');
  const b = r.buf;
  const type = (b[start] << 8) | b[start + 1];
  const len = (b[start + 2] << 8) | b[start + 3];
  r.pos = start + 4;
  if (len < 8 || len % 8 !== 0) throw badLen(type, len, start);
  r.need(len - 4, OFPET.BAD_ACTION, OFPBAC.BAD_LEN, 'action');
  // The body, [p, end), is read by offset: it is known to be there.
  const p = start + 4;
  const end = start + len;
  r.pos = end;
  switch (type) {
    case OFPAT.OUTPUT:
      if (len !== 16) throw badLen(type, len, start);
      return { type, port: u32At(b, p), maxLen: (b[p + 4] << 8) | b[p + 5] };
    case OFPAT.COPY_TTL_OUT:
    case OFPAT.COPY_TTL_IN:
    case OFPAT.DEC_MPLS_TTL:
    case OFPAT.POP_VLAN:
    case OFPAT.DEC_NW_TTL:
    case OFPAT.POP_PBB:
      if (len !== 8) throw badLen(type, len, start);
      return { type };
    case OFPAT.SET_MPLS_TTL:
      if (len !== 8) throw badLen(type, len, start);
      return { type, mplsTtl: b[p] };
    case OFPAT.SET_NW_TTL:
      if (len !== 8) throw badLen(type, len, start);
      return { type, nwTtl: b[p] };
    case OFPAT.PUSH_VLAN:
    case OFPAT.PUSH_MPLS:
    case OFPAT.PUSH_PBB:
    case OFPAT.POP_MPLS:
      if (len !== 8) throw badLen(type, len, start);
      return { type, ethertype: (b[p] << 8) | b[p + 1] };
    case OFPAT.SET_QUEUE:
      if (len !== 8) throw badLen(type, len, start);
      return { type, queueId: u32At(b, p) };
    case OFPAT.GROUP:
      if (len !== 8) throw badLen(type, len, start);
      return { type, groupId: u32At(b, p) };
    case OFPAT.SET_FIELD: {
      const a = new Reader(b, p, end);
      const field = decodeOxm(a);
      if (pad8(4 + oxmLength(field)) !== a.remaining) {
        throw new OfpError(OFPET.BAD_ACTION, OFPBAC.BAD_SET_LEN, `set_field length ${len} does not fit its OXM`, start);
      }
      return { type, field };
    }
    case OFPAT.EXPERIMENTER:
      return { type, experimenter: u32At(b, p), data: Buffer.from(b.subarray(p + 4, end)) };
    default:
      throw new OfpError(OFPET.BAD_ACTION, OFPBAC.BAD_TYPE, `unknown action type ${type}`, start);
  }
}

export function actionLength(a: Action): number {
  switch (a.type) {
    case OFPAT.OUTPUT:
      return 16;
    case OFPAT.SET_FIELD: {
      const len = 4 + oxmLength(a.field);
      return len + pad8(len);
    }
    case OFPAT.EXPERIMENTER:
      return 8 + a.data.length;
    default:
      return 8;
  }
}

export function encodeAction(a: Action, w: Writer): void {
  const b = w.buf;
  const start = w.pos;
  const type = a.type;
  b[start] = type >>> 8;
  b[start + 1] = type;
  w.pos = start + 4;
  // The length is patched in at the end, so nothing is measured twice.
  switch (a.type) {
    case OFPAT.OUTPUT:
      w.u32(a.port);
      w.u16(a.maxLen);
      w.zeros(6);
      break;
    case OFPAT.SET_MPLS_TTL:
      w.u8(a.mplsTtl);
      w.zeros(3);
      break;
    case OFPAT.SET_NW_TTL:
      w.u8(a.nwTtl);
      w.zeros(3);
      break;
    case OFPAT.PUSH_VLAN:
    case OFPAT.PUSH_MPLS:
    case OFPAT.PUSH_PBB:
    case OFPAT.POP_MPLS:
      w.u16(a.ethertype);
      w.zeros(2);
      break;
    case OFPAT.SET_QUEUE:
      w.u32(a.queueId);
      break;
    case OFPAT.GROUP:
      w.u32(a.groupId);
      break;
    case OFPAT.SET_FIELD:
      w.zeros(pad8(4 + encodeOxm(a.field, w)));
      break;
    case OFPAT.EXPERIMENTER:
      if (a.data.length % 8 !== 0) {
        throw new OfpError(OFPET.BAD_ACTION, OFPBAC.BAD_LEN, 'experimenter action data must end on an 8-byte boundary');
      }
      w.u32(a.experimenter);
      w.bytes(a.data);
      break;
    default:
      w.zeros(4);
  }
  const len = w.pos - start;
  b[start + 2] = len >>> 8;
  b[start + 3] = len;
}

/** A list of actions filling exactly `r`'s range. */
/** Actions whose decoding needs only their length to be right: 16 for OUTPUT, 8 for the others listed (decodeAction). */
const FIXED_ACTION_LENGTH = new Uint8Array(32);
FIXED_ACTION_LENGTH[OFPAT.OUTPUT] = 16;
for (const t of [
  OFPAT.COPY_TTL_OUT,
  OFPAT.COPY_TTL_IN,
  OFPAT.SET_MPLS_TTL,
  OFPAT.DEC_MPLS_TTL,
  OFPAT.PUSH_VLAN,
  OFPAT.POP_VLAN,
  OFPAT.PUSH_MPLS,
  OFPAT.POP_MPLS,
  OFPAT.SET_QUEUE,
  OFPAT.GROUP,
  OFPAT.SET_NW_TTL,
  OFPAT.DEC_NW_TTL,
  OFPAT.PUSH_PBB,
  OFPAT.POP_PBB,
]) {
  FIXED_ACTION_LENGTH[t] = 8;
}

/**
 * Would decodeActions take the action list `b[p, end)`? False also for
 * set-field and experimenter actions, which this does not follow (decode
 * to find out).
 */
export function wellFormedActions(b: Uint8Array, p: number, end: number): boolean {
  while (p < end) {
    if (p + 4 > end) return false;
    const type = (b[p] << 8) | b[p + 1];
    const len = (b[p + 2] << 8) | b[p + 3];
    if (type >= FIXED_ACTION_LENGTH.length || FIXED_ACTION_LENGTH[type] === 0 || len !== FIXED_ACTION_LENGTH[type] || p + len > end) return false;
    p += len;
  }
  return true;
}

export function decodeActions(r: Reader): Action[] {
  const out: Action[] = [];
  while (r.pos < r.end) out.push(decodeAction(r));
  return out;
}

export function actionsLength(actions: readonly Action[]): number {
  let len = 0;
  for (let i = 0; i < actions.length; i++) len += actionLength(actions[i]);
  return len;
}

export function encodeActions(actions: readonly Action[], w: Writer): void {
  for (let i = 0; i < actions.length; i++) encodeAction(actions[i], w);
}
