/**
 * OFPT_MULTIPART_REQUEST and OFPT_MULTIPART_REPLY (§7.3.5): the multipart
 * header, then a body per OFPMP type and direction, discriminated by
 * `mpType`. Bodies that are an array of entries carry them as `entries`,
 * so REPLY_MORE parts can be joined without knowing the type.
 */
import { DESC_STR_LEN, OFPMP, OFPT, SERIAL_NUM_LEN } from '../constants.js';
import { OFPBRC, OFPET, OfpError } from '../errors.js';
import { MessageCodec } from '../codec.js';
import { decodeInstructions, encodeInstructions, Instruction, instructionsLength } from '../instructions.js';
import { decodeMatch, encodeMatch, Match, matchLength } from '../oxm.js';
import { defineStruct, Struct, StructOf } from '../struct.js';
import { Reader, Writer } from '../wire.js';
import { Bucket, bucketsLength, decodeBuckets, encodeBuckets } from './group-mod.js';
import { decodeMeterBands, encodeMeterBands, MeterBand, meterBandsLength } from './meter-mod.js';
import { Port, portStruct } from './port.js';
import { decodeTableFeatures, encodeTableFeatures, TableFeatures, tableFeaturesLength } from './table-features.js';

type MP = typeof OFPMP;

/** A body that is an array of entries. */
export interface MultipartList<T extends number, E> {
  mpType: T;
  entries: E[];
}

// ---- Requests --------------------------------------------------------------

/** Requests whose body is empty. */
export interface EmptyMultipartRequest {
  mpType: MP['DESC'] | MP['TABLE'] | MP['GROUP_DESC'] | MP['GROUP_FEATURES'] | MP['METER_FEATURES'] | MP['PORT_DESC'];
}

const FLOW_REQUEST_FIELDS = [
  ['tableId', 'u8'],
  ['pad', 3],
  ['outPort', 'u32'],
  ['outGroup', 'u32'],
  ['pad', 4],
  ['cookie', 'u64'],
  ['cookieMask', 'u64'],
] as const;
/** ofp_flow_stats_request, and ofp_aggregate_stats_request, which has the same layout. */
export interface FlowStatsRequest extends StructOf<typeof FLOW_REQUEST_FIELDS> {
  mpType: MP['FLOW'] | MP['AGGREGATE'];
  match: Match;
}

const PORT_STATS_REQUEST_FIELDS = [
  ['portNo', 'u32'],
  ['pad', 4],
] as const;
export interface PortStatsRequest extends StructOf<typeof PORT_STATS_REQUEST_FIELDS> {
  mpType: MP['PORT_STATS'];
}

const QUEUE_STATS_REQUEST_FIELDS = [
  ['portNo', 'u32'],
  ['queueId', 'u32'],
] as const;
export interface QueueStatsRequest extends StructOf<typeof QUEUE_STATS_REQUEST_FIELDS> {
  mpType: MP['QUEUE'];
}

const GROUP_STATS_REQUEST_FIELDS = [
  ['groupId', 'u32'],
  ['pad', 4],
] as const;
export interface GroupStatsRequest extends StructOf<typeof GROUP_STATS_REQUEST_FIELDS> {
  mpType: MP['GROUP'];
}

const METER_REQUEST_FIELDS = [
  ['meterId', 'u32'],
  ['pad', 4],
] as const;
/** ofp_meter_multipart_request, for meter stats and meter config alike. */
export interface MeterMultipartRequest extends StructOf<typeof METER_REQUEST_FIELDS> {
  mpType: MP['METER'] | MP['METER_CONFIG'];
}

/** Both directions carry a list of ofp_table_features (an empty request only asks). */
export type TableFeaturesMultipart = MultipartList<MP['TABLE_FEATURES'], TableFeatures>;

/** ofp_experimenter_multipart_header and its data, both directions; kept opaque. */
export interface ExperimenterMultipart {
  mpType: MP['EXPERIMENTER'];
  experimenter: number;
  expType: number;
  data: Buffer;
}

export type MultipartRequestBody =
  | EmptyMultipartRequest
  | FlowStatsRequest
  | PortStatsRequest
  | QueueStatsRequest
  | GroupStatsRequest
  | MeterMultipartRequest
  | TableFeaturesMultipart
  | ExperimenterMultipart;

// ---- Reply entries ---------------------------------------------------------

const DESC_FIELDS = [
  ['mfrDesc', 'string', DESC_STR_LEN],
  ['hwDesc', 'string', DESC_STR_LEN],
  ['swDesc', 'string', DESC_STR_LEN],
  ['serialNum', 'string', SERIAL_NUM_LEN],
  ['dpDesc', 'string', DESC_STR_LEN],
] as const;
export type Desc = StructOf<typeof DESC_FIELDS>;

/** ofp_flow_stats; its length is computed from the match and instructions. */
export interface FlowStats {
  tableId: number;
  durationSec: number;
  durationNsec: number;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  cookie: bigint;
  packetCount: bigint;
  byteCount: bigint;
  match: Match;
  instructions: Instruction[];
}

const AGGREGATE_FIELDS = [
  ['packetCount', 'u64'],
  ['byteCount', 'u64'],
  ['flowCount', 'u32'],
  ['pad', 4],
] as const;
export type AggregateStats = StructOf<typeof AGGREGATE_FIELDS>;

const TABLE_STATS_FIELDS = [
  ['tableId', 'u8'],
  ['pad', 3],
  ['activeCount', 'u32'],
  ['lookupCount', 'u64'],
  ['matchedCount', 'u64'],
] as const;
export type TableStats = StructOf<typeof TABLE_STATS_FIELDS>;

const PORT_STATS_FIELDS = [
  ['portNo', 'u32'],
  ['pad', 4],
  ['rxPackets', 'u64'],
  ['txPackets', 'u64'],
  ['rxBytes', 'u64'],
  ['txBytes', 'u64'],
  ['rxDropped', 'u64'],
  ['txDropped', 'u64'],
  ['rxErrors', 'u64'],
  ['txErrors', 'u64'],
  ['rxFrameErr', 'u64'],
  ['rxOverErr', 'u64'],
  ['rxCrcErr', 'u64'],
  ['collisions', 'u64'],
  ['durationSec', 'u32'],
  ['durationNsec', 'u32'],
] as const;
export type PortStats = StructOf<typeof PORT_STATS_FIELDS>;

const QUEUE_STATS_FIELDS = [
  ['portNo', 'u32'],
  ['queueId', 'u32'],
  ['txBytes', 'u64'],
  ['txPackets', 'u64'],
  ['txErrors', 'u64'],
  ['durationSec', 'u32'],
  ['durationNsec', 'u32'],
] as const;
export type QueueStats = StructOf<typeof QUEUE_STATS_FIELDS>;

const BUCKET_COUNTER_FIELDS = [
  ['packetCount', 'u64'],
  ['byteCount', 'u64'],
] as const;
export type BucketCounter = StructOf<typeof BUCKET_COUNTER_FIELDS>;

/** ofp_group_stats; its length is computed from the bucket counters. */
export interface GroupStats {
  groupId: number;
  refCount: number;
  packetCount: bigint;
  byteCount: bigint;
  durationSec: number;
  durationNsec: number;
  bucketStats: BucketCounter[];
}

/** ofp_group_desc; `groupType` is its `type` member (OFPGT). */
export interface GroupDesc {
  groupType: number;
  groupId: number;
  buckets: Bucket[];
}

/** ofp_group_features; the arrays are indexed by OFPGT. */
export interface GroupFeatures {
  types: number;
  capabilities: number;
  maxGroups: [number, number, number, number];
  actions: [number, number, number, number];
}

const METER_BAND_STATS_FIELDS = [
  ['packetBandCount', 'u64'],
  ['byteBandCount', 'u64'],
] as const;
export type MeterBandStats = StructOf<typeof METER_BAND_STATS_FIELDS>;

/** ofp_meter_stats; its length is computed from the band stats. */
export interface MeterStats {
  meterId: number;
  flowCount: number;
  packetInCount: bigint;
  byteInCount: bigint;
  durationSec: number;
  durationNsec: number;
  bandStats: MeterBandStats[];
}

/** ofp_meter_config; its length is computed from the bands. */
export interface MeterConfig {
  flags: number;
  meterId: number;
  bands: MeterBand[];
}

const METER_FEATURES_FIELDS = [
  ['maxMeter', 'u32'],
  ['bandTypes', 'u32'],
  ['capabilities', 'u32'],
  ['maxBands', 'u8'],
  ['maxColor', 'u8'],
  ['pad', 2],
] as const;
export type MeterFeatures = StructOf<typeof METER_FEATURES_FIELDS>;

// ---- Replies ---------------------------------------------------------------

export interface DescReply extends Desc {
  mpType: MP['DESC'];
}
export type FlowStatsReply = MultipartList<MP['FLOW'], FlowStats>;
export interface AggregateStatsReply extends AggregateStats {
  mpType: MP['AGGREGATE'];
}
export type TableStatsReply = MultipartList<MP['TABLE'], TableStats>;
export type PortStatsReply = MultipartList<MP['PORT_STATS'], PortStats>;
export type QueueStatsReply = MultipartList<MP['QUEUE'], QueueStats>;
export type GroupStatsReply = MultipartList<MP['GROUP'], GroupStats>;
export type GroupDescReply = MultipartList<MP['GROUP_DESC'], GroupDesc>;
export interface GroupFeaturesReply extends GroupFeatures {
  mpType: MP['GROUP_FEATURES'];
}
export type MeterStatsReply = MultipartList<MP['METER'], MeterStats>;
export type MeterConfigReply = MultipartList<MP['METER_CONFIG'], MeterConfig>;
export interface MeterFeaturesReply extends MeterFeatures {
  mpType: MP['METER_FEATURES'];
}
export type PortDescReply = MultipartList<MP['PORT_DESC'], Port>;

export type MultipartReplyBody =
  | DescReply
  | FlowStatsReply
  | AggregateStatsReply
  | TableStatsReply
  | PortStatsReply
  | QueueStatsReply
  | GroupStatsReply
  | GroupDescReply
  | GroupFeaturesReply
  | MeterStatsReply
  | MeterConfigReply
  | MeterFeaturesReply
  | TableFeaturesMultipart
  | PortDescReply
  | ExperimenterMultipart;

export interface MultipartRequest {
  type: (typeof OFPT)['MULTIPART_REQUEST'];
  xid: number;
  /** OFPMPF_REQ_MORE */
  flags: number;
  body: MultipartRequestBody;
}

export interface MultipartReply {
  type: (typeof OFPT)['MULTIPART_REPLY'];
  xid: number;
  /** OFPMPF_REPLY_MORE */
  flags: number;
  body: MultipartReplyBody;
}

// ---- Codecs ----------------------------------------------------------------

/** How a body, or one entry of a list body, is decoded, sized and encoded. */
interface Part<V> {
  decode(r: Reader): V;
  length(v: V): number;
  encode(v: V, w: Writer): void;
}

function badLen(detail: string, at: number): OfpError {
  return new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, detail, at);
}

function structPart<V>(s: Struct<V>): Part<V> {
  return { decode: (r) => s.decode(r), length: () => s.size, encode: (v, w) => s.encode(v, w) };
}

function emptyBody<T extends number>(mpType: T): Part<{ mpType: T }> {
  return { decode: () => ({ mpType }), length: () => 0, encode: () => undefined };
}

function fixedBody<T extends number, V extends object>(mpType: T, s: Struct<V>): Part<{ mpType: T } & V> {
  return {
    decode: (r) => ({ mpType, ...s.decode(r) }),
    length: () => s.size,
    encode: (v, w) => s.encode(v, w),
  };
}

function listBody<T extends number, E>(mpType: T, entry: Part<E>): Part<MultipartList<T, E>> {
  return {
    decode(r) {
      const entries: E[] = [];
      while (r.pos < r.end) entries.push(entry.decode(r));
      return { mpType, entries };
    },
    length(v) {
      let len = 0;
      for (let i = 0; i < v.entries.length; i++) len += entry.length(v.entries[i]);
      return len;
    },
    encode(v, w) {
      for (let i = 0; i < v.entries.length; i++) entry.encode(v.entries[i], w);
    },
  };
}

const flowRequestStruct = defineStruct(FLOW_REQUEST_FIELDS);

function flowStatsRequestBody(mpType: FlowStatsRequest['mpType']): Part<FlowStatsRequest> {
  return {
    decode: (r) => ({ mpType, ...flowRequestStruct.decode(r), match: decodeMatch(r) }),
    length: (v) => flowRequestStruct.size + matchLength(v.match),
    encode(v, w) {
      flowRequestStruct.encode(v, w);
      encodeMatch(v.match, w);
    },
  };
}

const experimenterBody: Part<ExperimenterMultipart> = {
  decode(r) {
    r.need(8);
    const experimenter = r.u32();
    const expType = r.u32();
    return { mpType: OFPMP.EXPERIMENTER, experimenter, expType, data: r.rest() };
  },
  length: (v) => 8 + v.data.length,
  encode(v, w) {
    w.u32(v.experimenter);
    w.u32(v.expType);
    w.bytes(v.data);
  },
};

const tableFeaturesBody = listBody(OFPMP.TABLE_FEATURES, {
  decode: decodeTableFeatures,
  length: tableFeaturesLength,
  encode: encodeTableFeatures,
});

const FLOW_STATS_HEADER = 48;

/** Hand-written: a 1000-entry flow-stats reply is on the benchmarked path. */
const flowStatsEntry: Part<FlowStats> = {
  decode(r) {
    const start = r.pos;
    r.need(2);
    const len = r.u16();
    if (len < FLOW_STATS_HEADER) throw badLen(`flow stats length ${len} < ${FLOW_STATS_HEADER}`, start);
    const e = r.sub(len - 2, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, 'flow stats');
    const tableId = e.u8();
    e.skip(1);
    const durationSec = e.u32();
    const durationNsec = e.u32();
    const priority = e.u16();
    const idleTimeout = e.u16();
    const hardTimeout = e.u16();
    const flags = e.u16();
    e.skip(4);
    const cookie = e.u64();
    const packetCount = e.u64();
    const byteCount = e.u64();
    const match = decodeMatch(e);
    const instructions = decodeInstructions(e);
    return {
      tableId,
      durationSec,
      durationNsec,
      priority,
      idleTimeout,
      hardTimeout,
      flags,
      cookie,
      packetCount,
      byteCount,
      match,
      instructions,
    };
  },
  length: (f) => FLOW_STATS_HEADER + matchLength(f.match) + instructionsLength(f.instructions),
  encode(f, w) {
    const start = w.pos;
    w.u16(0); // length, patched once the match and instructions are written
    w.u8(f.tableId);
    w.zeros(1);
    w.u32(f.durationSec);
    w.u32(f.durationNsec);
    w.u16(f.priority);
    w.u16(f.idleTimeout);
    w.u16(f.hardTimeout);
    w.u16(f.flags);
    w.zeros(4);
    w.u64(f.cookie);
    w.u64(f.packetCount);
    w.u64(f.byteCount);
    encodeMatch(f.match, w);
    encodeInstructions(f.instructions, w);
    w.buf.writeUInt16BE(w.pos - start, start);
  },
};

const bucketCounterStruct = defineStruct(BUCKET_COUNTER_FIELDS);
const GROUP_STATS_HEADER = 40;

const groupStatsEntry: Part<GroupStats> = {
  decode(r) {
    const start = r.pos;
    r.need(2);
    const len = r.u16();
    if (len < GROUP_STATS_HEADER || (len - GROUP_STATS_HEADER) % bucketCounterStruct.size !== 0) {
      throw badLen(`group stats length ${len} is not ${GROUP_STATS_HEADER} plus bucket counters`, start);
    }
    const e = r.sub(len - 2, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, 'group stats');
    e.skip(2);
    const groupId = e.u32();
    const refCount = e.u32();
    e.skip(4);
    const packetCount = e.u64();
    const byteCount = e.u64();
    const durationSec = e.u32();
    const durationNsec = e.u32();
    const bucketStats: BucketCounter[] = [];
    while (e.remaining > 0) bucketStats.push(bucketCounterStruct.decode(e));
    return { groupId, refCount, packetCount, byteCount, durationSec, durationNsec, bucketStats };
  },
  length: (g) => GROUP_STATS_HEADER + g.bucketStats.length * bucketCounterStruct.size,
  encode(g, w) {
    w.u16(GROUP_STATS_HEADER + g.bucketStats.length * bucketCounterStruct.size);
    w.zeros(2);
    w.u32(g.groupId);
    w.u32(g.refCount);
    w.zeros(4);
    w.u64(g.packetCount);
    w.u64(g.byteCount);
    w.u32(g.durationSec);
    w.u32(g.durationNsec);
    for (const b of g.bucketStats) bucketCounterStruct.encode(b, w);
  },
};

const groupDescEntry: Part<GroupDesc> = {
  decode(r) {
    const start = r.pos;
    r.need(2);
    const len = r.u16();
    if (len < 8) throw badLen(`group desc length ${len} < 8`, start);
    const e = r.sub(len - 2, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, 'group desc');
    const groupType = e.u8();
    e.skip(1);
    const groupId = e.u32();
    return { groupType, groupId, buckets: decodeBuckets(e) };
  },
  length: (g) => 8 + bucketsLength(g.buckets),
  encode(g, w) {
    w.u16(8 + bucketsLength(g.buckets));
    w.u8(g.groupType);
    w.zeros(1);
    w.u32(g.groupId);
    encodeBuckets(g.buckets, w);
  },
};

const groupFeaturesBody: Part<GroupFeaturesReply> = {
  decode(r) {
    r.need(40);
    const types = r.u32();
    const capabilities = r.u32();
    const maxGroups: GroupFeatures['maxGroups'] = [r.u32(), r.u32(), r.u32(), r.u32()];
    const actions: GroupFeatures['actions'] = [r.u32(), r.u32(), r.u32(), r.u32()];
    return { mpType: OFPMP.GROUP_FEATURES, types, capabilities, maxGroups, actions };
  },
  length: () => 40,
  encode(g, w) {
    w.u32(g.types);
    w.u32(g.capabilities);
    for (let i = 0; i < 4; i++) w.u32(g.maxGroups[i]);
    for (let i = 0; i < 4; i++) w.u32(g.actions[i]);
  },
};

const meterBandStatsStruct = defineStruct(METER_BAND_STATS_FIELDS);
const METER_STATS_HEADER = 40;

const meterStatsEntry: Part<MeterStats> = {
  decode(r) {
    const start = r.pos;
    r.need(6);
    const meterId = r.u32();
    const len = r.u16();
    if (len < METER_STATS_HEADER || (len - METER_STATS_HEADER) % meterBandStatsStruct.size !== 0) {
      throw badLen(`meter stats length ${len} is not ${METER_STATS_HEADER} plus band stats`, start);
    }
    const e = r.sub(len - 6, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, 'meter stats');
    e.skip(6);
    const flowCount = e.u32();
    const packetInCount = e.u64();
    const byteInCount = e.u64();
    const durationSec = e.u32();
    const durationNsec = e.u32();
    const bandStats: MeterBandStats[] = [];
    while (e.remaining > 0) bandStats.push(meterBandStatsStruct.decode(e));
    return { meterId, flowCount, packetInCount, byteInCount, durationSec, durationNsec, bandStats };
  },
  length: (m) => METER_STATS_HEADER + m.bandStats.length * meterBandStatsStruct.size,
  encode(m, w) {
    w.u32(m.meterId);
    w.u16(METER_STATS_HEADER + m.bandStats.length * meterBandStatsStruct.size);
    w.zeros(6);
    w.u32(m.flowCount);
    w.u64(m.packetInCount);
    w.u64(m.byteInCount);
    w.u32(m.durationSec);
    w.u32(m.durationNsec);
    for (const b of m.bandStats) meterBandStatsStruct.encode(b, w);
  },
};

const meterConfigEntry: Part<MeterConfig> = {
  decode(r) {
    const start = r.pos;
    r.need(2);
    const len = r.u16();
    if (len < 8) throw badLen(`meter config length ${len} < 8`, start);
    const e = r.sub(len - 2, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, 'meter config');
    const flags = e.u16();
    const meterId = e.u32();
    return { flags, meterId, bands: decodeMeterBands(e) };
  },
  length: (m) => 8 + meterBandsLength(m.bands),
  encode(m, w) {
    w.u16(8 + meterBandsLength(m.bands));
    w.u16(m.flags);
    w.u32(m.meterId);
    encodeMeterBands(m.bands, w);
  },
};

const REQUEST_BODIES: Partial<Record<number, Part<MultipartRequestBody>>> = {
  [OFPMP.DESC]: emptyBody(OFPMP.DESC),
  [OFPMP.FLOW]: flowStatsRequestBody(OFPMP.FLOW),
  [OFPMP.AGGREGATE]: flowStatsRequestBody(OFPMP.AGGREGATE),
  [OFPMP.TABLE]: emptyBody(OFPMP.TABLE),
  [OFPMP.PORT_STATS]: fixedBody(OFPMP.PORT_STATS, defineStruct(PORT_STATS_REQUEST_FIELDS)),
  [OFPMP.QUEUE]: fixedBody(OFPMP.QUEUE, defineStruct(QUEUE_STATS_REQUEST_FIELDS)),
  [OFPMP.GROUP]: fixedBody(OFPMP.GROUP, defineStruct(GROUP_STATS_REQUEST_FIELDS)),
  [OFPMP.GROUP_DESC]: emptyBody(OFPMP.GROUP_DESC),
  [OFPMP.GROUP_FEATURES]: emptyBody(OFPMP.GROUP_FEATURES),
  [OFPMP.METER]: fixedBody(OFPMP.METER, defineStruct(METER_REQUEST_FIELDS)),
  [OFPMP.METER_CONFIG]: fixedBody(OFPMP.METER_CONFIG, defineStruct(METER_REQUEST_FIELDS)),
  [OFPMP.METER_FEATURES]: emptyBody(OFPMP.METER_FEATURES),
  [OFPMP.TABLE_FEATURES]: tableFeaturesBody,
  [OFPMP.PORT_DESC]: emptyBody(OFPMP.PORT_DESC),
  [OFPMP.EXPERIMENTER]: experimenterBody,
};

const REPLY_BODIES: Partial<Record<number, Part<MultipartReplyBody>>> = {
  [OFPMP.DESC]: fixedBody(OFPMP.DESC, defineStruct(DESC_FIELDS)),
  [OFPMP.FLOW]: listBody(OFPMP.FLOW, flowStatsEntry),
  [OFPMP.AGGREGATE]: fixedBody(OFPMP.AGGREGATE, defineStruct(AGGREGATE_FIELDS)),
  [OFPMP.TABLE]: listBody(OFPMP.TABLE, structPart(defineStruct(TABLE_STATS_FIELDS))),
  [OFPMP.PORT_STATS]: listBody(OFPMP.PORT_STATS, structPart(defineStruct(PORT_STATS_FIELDS))),
  [OFPMP.QUEUE]: listBody(OFPMP.QUEUE, structPart(defineStruct(QUEUE_STATS_FIELDS))),
  [OFPMP.GROUP]: listBody(OFPMP.GROUP, groupStatsEntry),
  [OFPMP.GROUP_DESC]: listBody(OFPMP.GROUP_DESC, groupDescEntry),
  [OFPMP.GROUP_FEATURES]: groupFeaturesBody,
  [OFPMP.METER]: listBody(OFPMP.METER, meterStatsEntry),
  [OFPMP.METER_CONFIG]: listBody(OFPMP.METER_CONFIG, meterConfigEntry),
  [OFPMP.METER_FEATURES]: fixedBody(OFPMP.METER_FEATURES, defineStruct(METER_FEATURES_FIELDS)),
  [OFPMP.TABLE_FEATURES]: tableFeaturesBody,
  [OFPMP.PORT_DESC]: listBody(OFPMP.PORT_DESC, structPart(portStruct)),
  [OFPMP.EXPERIMENTER]: experimenterBody,
};

function bodyPart<B extends { mpType: number }>(bodies: Partial<Record<number, Part<B>>>, mpType: number, at?: number): Part<B> {
  const part = bodies[mpType];
  if (part === undefined) throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_MULTIPART, `unknown multipart type ${mpType}`, at);
  return part;
}

function multipartCodec<M extends MultipartRequest | MultipartReply>(
  type: M['type'],
  bodies: Partial<Record<number, Part<M['body']>>>,
): MessageCodec<M> {
  return {
    decode(r, xid) {
      const start = r.pos;
      r.need(8);
      const mpType = r.u16();
      const flags = r.u16();
      r.skip(4);
      const body = bodyPart(bodies, mpType, start).decode(r);
      return { type, xid, flags, body } as M;
    },
    bodyLength: (m) => 8 + bodyPart(bodies, m.body.mpType).length(m.body),
    encode(m, w) {
      const part = bodyPart(bodies, m.body.mpType);
      w.u16(m.body.mpType);
      w.u16(m.flags);
      w.zeros(4);
      part.encode(m.body, w);
    },
  };
}

export const multipartRequestCodec = multipartCodec<MultipartRequest>(OFPT.MULTIPART_REQUEST, REQUEST_BODIES);
export const multipartReplyCodec = multipartCodec<MultipartReply>(OFPT.MULTIPART_REPLY, REPLY_BODIES);
