/**
 * The message registry: one codec per ofp_type, and the header handled once.
 * `decodeMessage` and `encodeMessage` are the library's entry points.
 */
import { MessageCodec } from './codec.js';
import { OFP_HEADER_SIZE, OFP_MAX_MESSAGE_SIZE, OFP_VERSION, OFPT } from './constants.js';
import { OFPBRC, OFPET, OfpError } from './errors.js';
import { basicCodecs } from './messages/basic.js';
import { flowModCodec } from './messages/flow-mod.js';
import { switchCodecs } from './messages/switch.js';
import { asyncCodecs } from './messages/async.js';
import { packetOutCodec } from './messages/packet-out.js';
import { queueConfigCodecs } from './messages/queue-config.js';
import { groupModCodec } from './messages/group-mod.js';
import { meterModCodec } from './messages/meter-mod.js';
import { multipartReplyCodec, multipartRequestCodec } from './messages/multipart.js';
import { Reader, u32At, Writer } from './wire.js';

export * from './messages/basic.js';
export * from './messages/flow-mod.js';
export * from './messages/switch.js';
export * from './messages/async.js';
export * from './messages/packet-out.js';
export * from './messages/queue-config.js';
export * from './messages/group-mod.js';
export * from './messages/meter-mod.js';
export * from './messages/multipart.js';
export * from './messages/table-features.js';

import type { EchoMessage, ErrorMessage, ExperimenterError, ExperimenterMessage, HeaderOnlyMessage, Hello } from './messages/basic.js';
import type { FlowMod } from './messages/flow-mod.js';
import type { AsyncConfig, PortMod, RoleMessage, SwitchConfig, SwitchFeatures, TableMod } from './messages/switch.js';
import type { FlowRemoved, PacketIn, PortStatus } from './messages/async.js';
import type { PacketOut } from './messages/packet-out.js';
import type { QueueGetConfigReply, QueueGetConfigRequest } from './messages/queue-config.js';
import type { GroupMod } from './messages/group-mod.js';
import type { MeterMod } from './messages/meter-mod.js';
import type { MultipartReply, MultipartRequest } from './messages/multipart.js';

/** Every OpenFlow 1.3 message, discriminated by `type` (an OFPT value). */
export type OfpMessage =
  | Hello
  | ErrorMessage
  | ExperimenterError
  | EchoMessage
  | ExperimenterMessage
  | HeaderOnlyMessage
  | FlowMod
  | SwitchFeatures
  | SwitchConfig
  | TableMod
  | PortMod
  | RoleMessage
  | AsyncConfig
  | PacketIn
  | FlowRemoved
  | PortStatus
  | PacketOut
  | QueueGetConfigRequest
  | QueueGetConfigReply
  | GroupMod
  | MeterMod
  | MultipartRequest
  | MultipartReply;

/** One codec per message type; a test checks that every OFPT value has one. */
export const CODECS: Partial<Record<number, MessageCodec<OfpMessage>>> = {
  ...basicCodecs,
  [OFPT.FLOW_MOD]: flowModCodec,
  ...switchCodecs,
  ...asyncCodecs,
  [OFPT.PACKET_OUT]: packetOutCodec,
  ...queueConfigCodecs,
  [OFPT.GROUP_MOD]: groupModCodec,
  [OFPT.METER_MOD]: meterModCodec,
  [OFPT.MULTIPART_REQUEST]: multipartRequestCodec,
  [OFPT.MULTIPART_REPLY]: multipartReplyCodec,
} as Partial<Record<number, MessageCodec<OfpMessage>>>;

export interface OfpHeader {
  version: number;
  type: number;
  length: number;
  xid: number;
}

/** Reads the 8-byte header at `offset`; the caller has checked 8 bytes are there. */
export function readHeader(buf: Buffer, offset = 0): OfpHeader {
  return {
    version: buf[offset],
    type: buf[offset + 1],
    length: buf.readUInt16BE(offset + 2),
    xid: buf.readUInt32BE(offset + 4),
  };
}

/** "FLOW_MOD", or the number for a type the spec does not define. */
export function messageTypeName(type: number): string {
  return Object.keys(OFPT).find((k) => OFPT[k as keyof typeof OFPT] === type) ?? String(type);
}

/**
 * Decodes the one message at `offset`. Throws only OfpError: OFPBRC_BAD_LEN
 * for a truncated or inconsistent message, OFPBRC_BAD_VERSION for a non-1.3
 * message other than HELLO, OFPBRC_BAD_TYPE for an unknown type, and the
 * specific code of any malformed inner structure. Offsets in errors are
 * relative to `buf`.
 */
export function decodeMessage(buf: Buffer, offset = 0): OfpMessage {
  if (buf.length - offset < OFP_HEADER_SIZE) {
    throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `${buf.length - offset} bytes is shorter than a header`, offset);
  }
  const version = buf[offset];
  const type = buf[offset + 1];
  const length = (buf[offset + 2] << 8) | buf[offset + 3];
  const xid = u32At(buf, offset + 4);
  if (length < OFP_HEADER_SIZE) throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `length ${length} < 8`, offset);
  if (length > buf.length - offset) {
    throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `header says ${length} bytes, only ${buf.length - offset} present`, offset);
  }
  if (version !== OFP_VERSION && type !== OFPT.HELLO) {
    throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_VERSION, `version ${version} is not OpenFlow 1.3`, offset);
  }
  const codec = CODECS[type];
  if (codec === undefined) throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE, `unknown message type ${type}`, offset);
  const r = new Reader(buf, offset + OFP_HEADER_SIZE, offset + length);
  const msg = codec.decode(r, xid, version);
  if (r.pos !== r.end) {
    throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `${r.end - r.pos} bytes left over after ${messageTypeName(type)}`, r.pos);
  }
  return msg;
}

function codecFor(msg: OfpMessage): MessageCodec<OfpMessage> {
  const codec = CODECS[msg.type];
  if (codec === undefined) throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE, `unknown message type ${msg.type}`);
  return codec;
}

/** Encoded length of a message, header included. */
export function messageLength(msg: OfpMessage): number {
  return OFP_HEADER_SIZE + codecFor(msg).bodyLength(msg);
}

/** Encodes one message; the length field is computed. */
export function encodeMessage(msg: OfpMessage): Buffer {
  const codec = codecFor(msg);
  const length = OFP_HEADER_SIZE + codec.bodyLength(msg);
  if (length > OFP_MAX_MESSAGE_SIZE) {
    throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `${messageTypeName(msg.type)} would be ${length} bytes, over 65535`);
  }
  const w = new Writer(length);
  w.u8(msg.type === OFPT.HELLO ? msg.version : OFP_VERSION);
  w.u8(msg.type);
  w.u16(length);
  w.u32(msg.xid);
  codec.encode(msg, w);
  if (w.pos !== length) throw new Error(`internal: ${messageTypeName(msg.type)} encoded ${w.pos} bytes, computed ${length}`);
  return w.buf;
}
