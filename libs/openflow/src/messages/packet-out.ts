/** OFPT_PACKET_OUT (§7.3.7): a frame, or a buffered one, sent through an action list. */
import { OFPT } from '../constants.js';
import { OFPBRC, OFPET } from '../errors.js';
import { MessageCodec } from '../codec.js';
import { Action, actionsLength, decodeActions, encodeActions } from '../actions.js';

export interface PacketOut {
  type: (typeof OFPT)['PACKET_OUT'];
  xid: number;
  /** OFP_NO_BUFFER when the frame is in `data`. */
  bufferId: number;
  inPort: number;
  actions: Action[];
  data: Buffer;
}

// Hand-written rather than a struct: actions_len is computed, not a field of the object.
export const packetOutCodec: MessageCodec<PacketOut> = {
  decode(r, xid) {
    r.need(16);
    const bufferId = r.u32();
    const inPort = r.u32();
    const actionsLen = r.u16();
    r.skip(6);
    const actions = decodeActions(r.sub(actionsLen, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, 'actions'));
    return { type: OFPT.PACKET_OUT, xid, bufferId, inPort, actions, data: r.rest() };
  },
  bodyLength: (m) => 16 + actionsLength(m.actions) + m.data.length,
  encode(m, w) {
    w.u32(m.bufferId);
    w.u32(m.inPort);
    w.u16(actionsLength(m.actions));
    w.zeros(6);
    encodeActions(m.actions, w);
    w.bytes(m.data);
  },
};
