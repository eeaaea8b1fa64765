/**
 * Queue configuration (§7.3.6): QUEUE_GET_CONFIG_REQUEST and its reply,
 * with the ofp_packet_queue descriptions and their properties (§7.2.2).
 * Neither queues nor properties are padded to 8 bytes: each length covers
 * exactly its bytes, as switches (and Ryu) send them.
 */
import { OFPQT, OFPT } from '../constants.js';
import { OFPBRC, OFPET, OfpError } from '../errors.js';
import { MessageCodec } from '../codec.js';
import { defineStruct } from '../struct.js';
import { Reader, Writer } from '../wire.js';

type T = typeof OFPT;

/** OFPQT_MIN_RATE / OFPQT_MAX_RATE: the rate in 1/10 of a percent (> 1000: disabled). */
export interface QueueRateProperty {
  property: (typeof OFPQT)['MIN_RATE'] | (typeof OFPQT)['MAX_RATE'];
  rate: number;
}
/** `data` is everything after the experimenter id and its padding. */
export interface QueueExperimenterProperty {
  property: (typeof OFPQT)['EXPERIMENTER'];
  experimenter: number;
  data: Buffer;
}
/** A property type the spec does not define: its body after the 8-byte header, re-encoded as is. */
export interface QueueRawProperty {
  property: number;
  data: Buffer;
}
export type QueueProperty = QueueRateProperty | QueueExperimenterProperty | QueueRawProperty;

export interface PacketQueue {
  queueId: number;
  port: number;
  properties: QueueProperty[];
}

export interface QueueGetConfigRequest {
  type: T['QUEUE_GET_CONFIG_REQUEST'];
  xid: number;
  port: number;
}

export interface QueueGetConfigReply {
  type: T['QUEUE_GET_CONFIG_REPLY'];
  xid: number;
  port: number;
  queues: PacketQueue[];
}

function isRate(p: QueueProperty): p is QueueRateProperty {
  return 'rate' in p;
}

function isExperimenter(p: QueueProperty): p is QueueExperimenterProperty {
  return 'experimenter' in p;
}

function badLen(what: string, len: number, at: number): OfpError {
  return new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `${what} has length ${len}`, at);
}

function decodeQueueProperty(r: Reader): QueueProperty {
  const start = r.pos;
  r.need(8, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, 'queue property header');
  const property = r.u16();
  const len = r.u16();
  r.skip(4);
  if (len < 8) throw badLen(`queue property ${property}`, len, start);
  const body = r.sub(len - 8, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, 'queue property');
  switch (property) {
    case OFPQT.MIN_RATE:
    case OFPQT.MAX_RATE: {
      if (len !== 16) throw badLen(`queue rate property ${property}`, len, start);
      const rate = body.u16();
      return { property, rate };
    }
    case OFPQT.EXPERIMENTER: {
      if (len < 16) throw badLen('queue experimenter property', len, start);
      const experimenter = body.u32();
      body.skip(4);
      return { property, experimenter, data: body.rest() };
    }
    default:
      return { property, data: body.rest() };
  }
}

function queuePropertyLength(p: QueueProperty): number {
  if (isRate(p)) return 16;
  if (isExperimenter(p)) return 16 + p.data.length;
  return 8 + p.data.length;
}

function encodeQueueProperty(p: QueueProperty, w: Writer): void {
  w.u16(p.property);
  w.u16(queuePropertyLength(p));
  w.zeros(4);
  if (isRate(p)) {
    w.u16(p.rate);
    w.zeros(6);
  } else if (isExperimenter(p)) {
    w.u32(p.experimenter);
    w.zeros(4);
    w.bytes(p.data);
  } else {
    w.bytes(p.data);
  }
}

/** ofp_packet_queue: queue id, port, length, 6 bytes of padding, properties. */
export function decodePacketQueue(r: Reader): PacketQueue {
  const start = r.pos;
  r.need(16, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, 'queue header');
  const queueId = r.u32();
  const port = r.u32();
  const len = r.u16();
  r.skip(6);
  if (len < 16) throw badLen(`queue ${queueId}`, len, start);
  const body = r.sub(len - 16, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, 'queue');
  const properties: QueueProperty[] = [];
  while (body.remaining > 0) properties.push(decodeQueueProperty(body));
  return { queueId, port, properties };
}

export function packetQueueLength(q: PacketQueue): number {
  let len = 16;
  for (const p of q.properties) len += queuePropertyLength(p);
  return len;
}

export function encodePacketQueue(q: PacketQueue, w: Writer): void {
  w.u32(q.queueId);
  w.u32(q.port);
  w.u16(packetQueueLength(q));
  w.zeros(6);
  for (const p of q.properties) encodeQueueProperty(p, w);
}

/** The port (and padding) that both the request and the reply start with. */
const queuePortStruct = defineStruct([
  ['port', 'u32'],
  ['pad', 4],
] as const);

export const queueGetConfigRequestCodec: MessageCodec<QueueGetConfigRequest> = {
  decode: (r, xid) => ({ type: OFPT.QUEUE_GET_CONFIG_REQUEST, xid, ...queuePortStruct.decode(r) }),
  bodyLength: () => queuePortStruct.size,
  encode: (m, w) => queuePortStruct.encode(m, w),
};

export const queueGetConfigReplyCodec: MessageCodec<QueueGetConfigReply> = {
  decode(r, xid) {
    const { port } = queuePortStruct.decode(r);
    const queues: PacketQueue[] = [];
    while (r.remaining > 0) queues.push(decodePacketQueue(r));
    return { type: OFPT.QUEUE_GET_CONFIG_REPLY, xid, port, queues };
  },
  bodyLength(m) {
    let len = queuePortStruct.size;
    for (const q of m.queues) len += packetQueueLength(q);
    return len;
  },
  encode(m, w) {
    queuePortStruct.encode(m, w);
    for (const q of m.queues) encodePacketQueue(q, w);
  },
};

export const queueConfigCodecs = {
  [OFPT.QUEUE_GET_CONFIG_REQUEST]: queueGetConfigRequestCodec,
  [OFPT.QUEUE_GET_CONFIG_REPLY]: queueGetConfigReplyCodec,
};
