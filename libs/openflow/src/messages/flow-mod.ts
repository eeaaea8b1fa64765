/** OFPT_FLOW_MOD (§7.3.4.2): the hot-path message, hand-decoded field by field. */
import { OFP_VERSION, OFPT } from '../constants.js';
import { MessageCodec } from '../codec.js';
import { decodeInstructions, encodeInstructions, Instruction, instructionsLength, wellFormedInstructions } from '../instructions.js';
import { decodeMatch, encodeMatch, Match, matchLength, wellFormedMatchAt } from '../oxm.js';
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

/**
 * Would `decodeMessage(raw)` decode this OFPT_FLOW_MOD without an error?
 * True only when it certainly would; false when it would not, and also for
 * what this check does not follow (OXMs other than OpenFlow-basic ones,
 * set-field and experimenter actions, experimenter instructions): decode it
 * to find out. For code that acts on a flow-mod's bytes without decoding
 * them (the relay's fast path), which must take only what the decoder
 * takes. Its parts sit beside their decoders (wellFormedMatchAt,
 * wellFormedInstructions, wellFormedActions); flow-mod-wire.property.spec.ts
 * holds them to the decoder.
 */
export function wellFormedFlowMod(raw: Uint8Array): boolean {
  const n = raw.length;
  const at = FLOW_MOD_AT.match;
  if (n < at + 8 || raw[0] !== OFP_VERSION || raw[1] !== OFPT.FLOW_MOD || ((raw[2] << 8) | raw[3]) !== n) return false;
  const instructionsAt = wellFormedMatchAt(raw, at, n);
  return instructionsAt >= 0 && wellFormedInstructions(raw, instructionsAt, n);
}
