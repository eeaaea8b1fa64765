/** OFPT_FLOW_MOD (§7.3.4.2): the hot-path message, hand-decoded field by field. */
import { OFP_VERSION, OFPAT, OFPIT, OFPMT, OFPT, OFPXMC } from '../constants.js';
import { MessageCodec } from '../codec.js';
import { decodeInstructions, encodeInstructions, Instruction, instructionsLength } from '../instructions.js';
import { decodeMatch, encodeMatch, Match, matchLength, OXM_FIELDS } from '../oxm.js';
import { readU64, u32At } from '../wire.js';

export interface FlowMod {
  type: (typeof OFPT)['FLOW_MOD'];
  xid: number;
  cookie: bigint;
  cookieMask: bigint;
  tableId: number;
  command: number;
  idleTimeout: number;
  hardTimeout: number;
  priority: number;
  bufferId: number;
  outPort: number;
  outGroup: number;
  flags: number;
  match: Match;
  instructions: Instruction[];
}

/** Byte offsets in an encoded OFPT_FLOW_MOD (§7.3.4.2), for code that reads or patches one without decoding it; the match (ofp_match: type, length, TLVs) starts at `match`. */
export const FLOW_MOD_AT = {
  cookie: 8,
  cookieMask: 16,
  tableId: 24,
  command: 25,
  idleTimeout: 26,
  hardTimeout: 28,
  priority: 30,
  bufferId: 32,
  outPort: 36,
  outGroup: 40,
  flags: 44,
  match: 48,
} as const;

export const flowModCodec: MessageCodec<FlowMod> = {
  decode(r, xid) {
    r.need(40);
    // The fixed part is read by offset once its 40 bytes are known to be there.
    const b = r.buf;
    const p = r.pos;
    const cookie = readU64(b, p);
    const cookieMask = readU64(b, p + 8);
    const tableId = b[p + 16];
    const command = b[p + 17];
    const idleTimeout = (b[p + 18] << 8) | b[p + 19];
    const hardTimeout = (b[p + 20] << 8) | b[p + 21];
    const priority = (b[p + 22] << 8) | b[p + 23];
    const bufferId = u32At(b, p + 24);
    const outPort = u32At(b, p + 28);
    const outGroup = u32At(b, p + 32);
    const flags = (b[p + 36] << 8) | b[p + 37];
    r.pos = p + 40;
    const match = decodeMatch(r);
    // The instructions fill the rest of the message, which is exactly r's range: no sub-reader needed.
    const instructions = decodeInstructions(r);
    return {
      type: OFPT.FLOW_MOD,
      xid,
      cookie,
      cookieMask,
      tableId,
      command,
      idleTimeout,
      hardTimeout,
      priority,
      bufferId,
      outPort,
      outGroup,
      flags,
      match,
      instructions,
    };
  },
  bodyLength: (m) => 40 + matchLength(m.match) + instructionsLength(m.instructions),
  encode(m, w) {
    w.u64(m.cookie);
    w.u64(m.cookieMask);
    w.u8(m.tableId);
    w.u8(m.command);
    w.u16(m.idleTimeout);
    w.u16(m.hardTimeout);
    w.u16(m.priority);
    w.u32(m.bufferId);
    w.u32(m.outPort);
    w.u32(m.outGroup);
    w.u16(m.flags);
    w.zeros(2);
    encodeMatch(m.match, w);
    encodeInstructions(m.instructions, w);
  },
};

/** Value width of each OpenFlow-basic OXM field by id; 0: a field the decoder does not know. */
const BASIC_WIDTH = new Uint8Array(128);
for (const d of OXM_FIELDS) BASIC_WIDTH[d.id] = d.width;

/** Actions whose decoding only needs a fixed length: 16 for OUTPUT, 8 for the rest (§7.2.5). */
const FIXED_ACTION_LEN = new Uint8Array(32);
FIXED_ACTION_LEN[OFPAT.OUTPUT] = 16;
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
  FIXED_ACTION_LEN[t] = 8;
}

/** Do the actions in [p, end) decode? Only fixed-length actions are followed (set-field and experimenter: false). */
function wellFormedActions(b: Uint8Array, p: number, end: number): boolean {
  while (p < end) {
    if (p + 4 > end) return false;
    const type = (b[p] << 8) | b[p + 1];
    const len = (b[p + 2] << 8) | b[p + 3];
    if (type >= FIXED_ACTION_LEN.length || FIXED_ACTION_LEN[type] === 0 || len !== FIXED_ACTION_LEN[type] || p + len > end) return false;
    p += len;
  }
  return true;
}

/**
 * Would `decodeMessage(raw)` decode this OFPT_FLOW_MOD without an error?
 * True only when it certainly would; false when it would not, and also for
 * what this check does not follow (OXMs other than OpenFlow-basic ones,
 * set-field and experimenter actions, experimenter instructions): decode it
 * to find out. For code that acts on a flow-mod's bytes without decoding
 * them (the relay's fast path), which must take only what the decoder
 * takes. Kept beside the decoder, and checked against it (flow-mod.spec.ts).
 */
export function wellFormedFlowMod(raw: Uint8Array): boolean {
  const n = raw.length;
  const at = FLOW_MOD_AT.match;
  if (n < at + 8 || raw[0] !== OFP_VERSION || raw[1] !== OFPT.FLOW_MOD || ((raw[2] << 8) | raw[3]) !== n) return false;
  // The match: OXM type, TLVs exactly filling its length, each a known field of its width (twice that with a mask).
  const mlen = (raw[at + 2] << 8) | raw[at + 3];
  if (((raw[at] << 8) | raw[at + 1]) !== OFPMT.OXM || mlen < 4) return false;
  const mend = at + mlen;
  const iStart = at + ((mlen + 7) & ~7);
  if (iStart > n) return false;
  for (let p = at + 4; p < mend; ) {
    if (p + 4 > mend || ((raw[p] << 8) | raw[p + 1]) !== OFPXMC.OPENFLOW_BASIC) return false;
    const width = BASIC_WIDTH[raw[p + 2] >>> 1];
    const len = raw[p + 3];
    if (width === 0 || len !== ((raw[p + 2] & 1) === 1 ? 2 * width : width)) return false;
    p += 4 + len;
    if (p > mend) return false;
  }
  // The instructions fill the rest exactly.
  for (let p = iStart; p < n; ) {
    if (p + 4 > n) return false;
    const type = (raw[p] << 8) | raw[p + 1];
    const len = (raw[p + 2] << 8) | raw[p + 3];
    if (len < 4 || p + len > n) return false;
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
        if (len < 8 || len % 8 !== 0 || !wellFormedActions(raw, p + 8, p + len)) return false;
        break;
      default:
        return false;
    }
    p += len;
  }
  return true;
}
