/** OFPT_FLOW_MOD (§7.3.4.2): the hot-path message, hand-decoded field by field. */
import { OFPT } from '../constants.js';
import { MessageCodec } from '../codec.js';
import { decodeInstructions, encodeInstructions, Instruction, instructionsLength } from '../instructions.js';
import { decodeMatch, encodeMatch, Match, matchLength } from '../oxm.js';

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

export const flowModCodec: MessageCodec<FlowMod> = {
  decode(r, xid) {
    r.need(40);
    const cookie = r.u64();
    const cookieMask = r.u64();
    const tableId = r.u8();
    const command = r.u8();
    const idleTimeout = r.u16();
    const hardTimeout = r.u16();
    const priority = r.u16();
    const bufferId = r.u32();
    const outPort = r.u32();
    const outGroup = r.u32();
    const flags = r.u16();
    r.skip(2);
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
