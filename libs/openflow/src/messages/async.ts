/** Asynchronous messages (§7.4.1-7.4.3): PACKET_IN, FLOW_REMOVED, PORT_STATUS. */
import { OFPT } from '../constants.js';
import { MessageCodec } from '../codec.js';
import { decodeMatch, encodeMatch, Match, matchLength } from '../oxm.js';
import { defineStruct, StructOf } from '../struct.js';
import { Port, portStruct } from './port.js';

type T = typeof OFPT;

export interface PacketIn {
  type: T['PACKET_IN'];
  xid: number;
  bufferId: number;
  /** Length of the whole frame, which `data` may hold only the start of. */
  totalLen: number;
  reason: number;
  tableId: number;
  cookie: bigint;
  match: Match;
  data: Buffer;
}

const FLOW_REMOVED_FIELDS = [
  ['cookie', 'u64'],
  ['priority', 'u16'],
  ['reason', 'u8'],
  ['tableId', 'u8'],
  ['durationSec', 'u32'],
  ['durationNsec', 'u32'],
  ['idleTimeout', 'u16'],
  ['hardTimeout', 'u16'],
  ['packetCount', 'u64'],
  ['byteCount', 'u64'],
] as const;

export interface FlowRemoved extends StructOf<typeof FLOW_REMOVED_FIELDS> {
  type: T['FLOW_REMOVED'];
  xid: number;
  match: Match;
}

export interface PortStatus {
  type: T['PORT_STATUS'];
  xid: number;
  reason: number;
  desc: Port;
}

/** The relay hot path: hand-decoded, like flow-mod. */
export const packetInCodec: MessageCodec<PacketIn> = {
  decode(r, xid) {
    r.need(16);
    const bufferId = r.u32();
    const totalLen = r.u16();
    const reason = r.u8();
    const tableId = r.u8();
    const cookie = r.u64();
    const match = decodeMatch(r);
    r.skip(2);
    return { type: OFPT.PACKET_IN, xid, bufferId, totalLen, reason, tableId, cookie, match, data: r.rest() };
  },
  bodyLength: (m) => 16 + matchLength(m.match) + 2 + m.data.length,
  encode(m, w) {
    w.u32(m.bufferId);
    w.u16(m.totalLen);
    w.u8(m.reason);
    w.u8(m.tableId);
    w.u64(m.cookie);
    encodeMatch(m.match, w);
    w.zeros(2);
    w.bytes(m.data);
  },
};

const flowRemovedStruct = defineStruct(FLOW_REMOVED_FIELDS);

export const flowRemovedCodec: MessageCodec<FlowRemoved> = {
  decode(r, xid) {
    const fixed = flowRemovedStruct.decode(r);
    return { type: OFPT.FLOW_REMOVED, xid, ...fixed, match: decodeMatch(r) };
  },
  bodyLength: (m) => flowRemovedStruct.size + matchLength(m.match),
  encode(m, w) {
    flowRemovedStruct.encode(m, w);
    encodeMatch(m.match, w);
  },
};

export const portStatusCodec: MessageCodec<PortStatus> = {
  decode(r, xid) {
    const reason = r.u8();
    r.skip(7);
    return { type: OFPT.PORT_STATUS, xid, reason, desc: portStruct.decode(r) };
  },
  bodyLength: () => 8 + portStruct.size,
  encode(m, w) {
    w.u8(m.reason);
    w.zeros(7);
    portStruct.encode(m.desc, w);
  },
};

export const asyncCodecs = {
  [OFPT.PACKET_IN]: packetInCodec,
  [OFPT.FLOW_REMOVED]: flowRemovedCodec,
  [OFPT.PORT_STATUS]: portStatusCodec,
};
