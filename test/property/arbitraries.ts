/**
 * fast-check arbitraries for random, well-formed OpenFlow 1.3.5 messages of
 * every type the codec knows: each one must encode, decode back to an equal
 * object and re-encode to the same bytes.
 *
 * Values are generated in their canonical decoded form: OXM values by the
 * descriptor's kind and width (addresses built from random bytes and
 * formatted with addr.ts, so MACs are lower case and IPv6 is RFC 5952),
 * masks only on maskable fields, strings of printable ASCII that fit their
 * NUL-padded fields, and opaque data sized to keep 8-byte alignment wherever
 * the spec asks for it. Sizes are kept small so every message stays far
 * below the 65535-byte limit.
 */
import fc from 'fast-check';
import {
  Action,
  Bucket,
  FlowStats,
  GroupDesc,
  GroupStats,
  HelloElement,
  Instruction,
  ipv4ToString,
  ipv6ToString,
  macToString,
  Match,
  MeterBand,
  MeterConfig,
  MeterStats,
  MultipartReplyBody,
  MultipartRequestBody,
  OFP_MAX_PORT_NAME_LEN,
  OFP_MAX_TABLE_NAME_LEN,
  OFPAT,
  OFPET,
  OFPIT,
  OFPMBT,
  OFPMP,
  OFPQT,
  OFPT,
  OFPTFPT,
  OFPXMC,
  OfpMessage,
  OXM_FIELDS,
  OxmDescriptor,
  OxmField,
  OxmOpaque,
  OxmTlv,
  OxmValue,
  PacketQueue,
  QueueProperty,
  TableFeatureProp,
  TableFeatures,
  DESC_STR_LEN,
  SERIAL_NUM_LEN,
} from '@nicvisor/openflow';
import type { ActionId, InstructionId, OxmId } from '@nicvisor/openflow/messages/table-features.js';
import type { Port } from '@nicvisor/openflow/messages/port.js';

// ---- Scalars ---------------------------------------------------------------

export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u24 = fc.integer({ min: 0, max: 0xffffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
export const xid = u32;

/** Opaque bytes as the decoder returns them (a Buffer), up to `max` long. */
export function bytes(max = 32, min = 0): fc.Arbitrary<Buffer> {
  return fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
}

/** Opaque bytes whose length is a multiple of 8 (for structures that must stay 8-byte aligned). */
export function bytes8(maxWords = 3): fc.Arbitrary<Buffer> {
  return fc.integer({ min: 0, max: maxWords }).chain((n) => bytes(8 * n, 8 * n));
}

/** Printable ASCII without NUL, at most `max` bytes: a NUL-padded string field decodes it back exactly. */
export function fixedString(max: number): fc.Arbitrary<string> {
  return fc.string({ unit: 'grapheme-ascii', maxLength: Math.min(max, 40) }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x'));
}

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => macToString(b, 0));

// ---- OXM -------------------------------------------------------------------

/** A value of the descriptor's kind: uint within 2^(8*width), bigint for u64, canonical address text. */
export function oxmValue(d: OxmDescriptor): fc.Arbitrary<OxmValue> {
  switch (d.kind) {
    case 'uint':
      return fc.integer({ min: 0, max: 2 ** (8 * d.width) - 1 });
    case 'u64':
      return u64;
    case 'mac':
      return mac;
    case 'ipv4':
      return fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => ipv4ToString(b, 0));
    case 'ipv6':
      // Mostly-zero groups too, so the "::" compression is exercised.
      return fc
        .array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
        .map((groups) => {
          const b = new Uint8Array(16);
          groups.forEach((g, i) => {
            b[2 * i] = g >>> 8;
            b[2 * i + 1] = g & 0xff;
          });
          return ipv6ToString(b, 0);
        });
  }
}

/** An OpenFlow-basic field; a mask only where the field is maskable. */
export function oxmFieldOf(d: OxmDescriptor): fc.Arbitrary<OxmField> {
  if (!d.maskable) return oxmValue(d).map((value) => ({ field: d.name, value }));
  return fc
    .tuple(oxmValue(d), fc.option(oxmValue(d), { nil: undefined }))
    .map(([value, mask]) => (mask === undefined ? { field: d.name, value } : { field: d.name, value, mask }));
}

export const oxmField: fc.Arbitrary<OxmField> = fc.constantFrom(...OXM_FIELDS).chain(oxmFieldOf);

/** Settable fields only, unmasked, as a set-field action carries them. */
export const settableOxmField: fc.Arbitrary<OxmField> = fc
  .constantFrom(...OXM_FIELDS.filter((d) => d.settable))
  .chain((d) => oxmValue(d).map((value): OxmField => ({ field: d.name, value })));

/** A field of another class, or an OpenFlow-basic field the table does not define, kept opaque. */
export const oxmOpaque: fc.Arbitrary<OxmOpaque> = fc.oneof(
  fc.record({
    oxmClass: fc.constantFrom(OFPXMC.NXM_0, OFPXMC.NXM_1, 0x0002, 0x1234),
    field: fc.integer({ min: 0, max: 127 }),
    hasMask: fc.boolean(),
    payload: bytes(24),
  }),
  fc.record({
    oxmClass: fc.constant(OFPXMC.OPENFLOW_BASIC),
    field: fc.integer({ min: OXM_FIELDS.length, max: 127 }),
    hasMask: fc.boolean(),
    payload: bytes(24),
  }),
  // An experimenter OXM starts with its 4-byte experimenter id.
  fc.record({
    oxmClass: fc.constant(OFPXMC.EXPERIMENTER),
    field: fc.integer({ min: 0, max: 127 }),
    hasMask: fc.boolean(),
    payload: bytes(24, 4),
  }),
);

export const oxmTlv: fc.Arbitrary<OxmTlv> = fc.oneof({ weight: 5, arbitrary: oxmField }, { weight: 1, arbitrary: oxmOpaque });

export const match: fc.Arbitrary<Match> = fc.array(oxmTlv, { maxLength: 6 });

// ---- Actions and instructions -------------------------------------------------

export const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ type: fc.constant(OFPAT.OUTPUT), port: u32, maxLen: u16 }),
  fc.record({
    type: fc.constantFrom(OFPAT.COPY_TTL_OUT, OFPAT.COPY_TTL_IN, OFPAT.DEC_MPLS_TTL, OFPAT.POP_VLAN, OFPAT.DEC_NW_TTL, OFPAT.POP_PBB),
  }),
  fc.record({ type: fc.constant(OFPAT.SET_MPLS_TTL), mplsTtl: u8 }),
  fc.record({ type: fc.constant(OFPAT.SET_NW_TTL), nwTtl: u8 }),
  fc.record({ type: fc.constantFrom(OFPAT.PUSH_VLAN, OFPAT.PUSH_MPLS, OFPAT.PUSH_PBB, OFPAT.POP_MPLS), ethertype: u16 }),
  fc.record({ type: fc.constant(OFPAT.SET_QUEUE), queueId: u32 }),
  fc.record({ type: fc.constant(OFPAT.GROUP), groupId: u32 }),
  fc.record({ type: fc.constant(OFPAT.SET_FIELD), field: fc.oneof({ weight: 4, arbitrary: settableOxmField }, oxmOpaque) }),
  // ofp_action_experimenter_header is 8 bytes; the data keeps the action 8-byte aligned.
  fc.record({ type: fc.constant(OFPAT.EXPERIMENTER), experimenter: u32, data: bytes8() }),
);

export const actions: fc.Arbitrary<Action[]> = fc.array(action, { maxLength: 5 });

export const instruction: fc.Arbitrary<Instruction> = fc.oneof(
  fc.record({ type: fc.constant(OFPIT.GOTO_TABLE), tableId: u8 }),
  fc.record({ type: fc.constant(OFPIT.WRITE_METADATA), metadata: u64, metadataMask: u64 }),
  fc.record({ type: fc.constantFrom(OFPIT.WRITE_ACTIONS, OFPIT.APPLY_ACTIONS), actions }),
  fc.record({ type: fc.constant(OFPIT.CLEAR_ACTIONS), actions: fc.array(action, { maxLength: 0 }) }),
  fc.record({ type: fc.constant(OFPIT.METER), meterId: u32 }),
  fc.record({ type: fc.constant(OFPIT.EXPERIMENTER), experimenter: u32, data: bytes8() }),
);

export const instructions: fc.Arbitrary<Instruction[]> = fc.array(instruction, { maxLength: 4 });

// ---- Shared structures -----------------------------------------------------------

export const port: fc.Arbitrary<Port> = fc.record({
  portNo: u32,
  hwAddr: mac,
  name: fixedString(OFP_MAX_PORT_NAME_LEN),
  config: u32,
  state: u32,
  curr: u32,
  advertised: u32,
  supported: u32,
  peer: u32,
  currSpeed: u32,
  maxSpeed: u32,
});

export const bucket: fc.Arbitrary<Bucket> = fc.record({ weight: u16, watchPort: u32, watchGroup: u32, actions });

export const meterBand: fc.Arbitrary<MeterBand> = fc.oneof(
  fc.record({ type: fc.constant(OFPMBT.DROP), rate: u32, burstSize: u32 }),
  fc.record({ type: fc.constant(OFPMBT.DSCP_REMARK), rate: u32, burstSize: u32, precLevel: u8 }),
  fc.record({ type: fc.constant(OFPMBT.EXPERIMENTER), rate: u32, burstSize: u32, experimenter: u32, data: bytes8() }),
);

export const queueProperty: fc.Arbitrary<QueueProperty> = fc.oneof(
  fc.record({ property: fc.constantFrom(OFPQT.MIN_RATE, OFPQT.MAX_RATE), rate: u16 }),
  fc.record({ property: fc.constant(OFPQT.EXPERIMENTER), experimenter: u32, data: bytes8() }),
  // A property type the spec does not define is kept as its raw body.
  fc.record({
    property: u16.filter((p) => p !== OFPQT.MIN_RATE && p !== OFPQT.MAX_RATE && p !== OFPQT.EXPERIMENTER),
    data: bytes8(),
  }),
);

export const packetQueue: fc.Arbitrary<PacketQueue> = fc.record({
  queueId: u32,
  port: u32,
  properties: fc.array(queueProperty, { maxLength: 3 }),
});

// ---- Table features ----------------------------------------------------------

const featureId: fc.Arbitrary<InstructionId | ActionId> = fc.oneof(
  fc.record({ type: u16.filter((t) => t !== 0xffff) }),
  fc.record({ type: fc.constant(0xffff as const), experimenter: u32, data: bytes(8) }),
);

const oxmId: fc.Arbitrary<OxmId> = fc.oneof(
  fc.record({
    oxmClass: u16.filter((c) => c !== OFPXMC.EXPERIMENTER),
    field: fc.integer({ min: 0, max: 127 }),
    hasMask: fc.boolean(),
    length: u8,
  }),
  fc.record({ oxmClass: fc.constant(OFPXMC.EXPERIMENTER), field: fc.integer({ min: 0, max: 127 }), hasMask: fc.boolean(), length: u8, experimenter: u32 }),
);

export const tableFeatureProp: fc.Arbitrary<TableFeatureProp> = fc.oneof(
  fc.record({
    type: fc.constantFrom(OFPTFPT.INSTRUCTIONS, OFPTFPT.INSTRUCTIONS_MISS),
    instructionIds: fc.array(featureId, { maxLength: 4 }),
  }),
  fc.record({ type: fc.constantFrom(OFPTFPT.NEXT_TABLES, OFPTFPT.NEXT_TABLES_MISS), nextTableIds: fc.array(u8, { maxLength: 10 }) }),
  fc.record({
    type: fc.constantFrom(OFPTFPT.WRITE_ACTIONS, OFPTFPT.WRITE_ACTIONS_MISS, OFPTFPT.APPLY_ACTIONS, OFPTFPT.APPLY_ACTIONS_MISS),
    actionIds: fc.array(featureId, { maxLength: 4 }),
  }),
  fc.record({
    type: fc.constantFrom(
      OFPTFPT.MATCH,
      OFPTFPT.WILDCARDS,
      OFPTFPT.WRITE_SETFIELD,
      OFPTFPT.WRITE_SETFIELD_MISS,
      OFPTFPT.APPLY_SETFIELD,
      OFPTFPT.APPLY_SETFIELD_MISS,
    ),
    oxmIds: fc.array(oxmId, { maxLength: 6 }),
  }),
  fc.record({
    type: fc.constantFrom(OFPTFPT.EXPERIMENTER, OFPTFPT.EXPERIMENTER_MISS),
    experimenter: u32,
    expType: u32,
    data: bytes(12),
  }),
);

export const tableFeatures: fc.Arbitrary<TableFeatures> = fc.record({
  tableId: u8,
  name: fixedString(OFP_MAX_TABLE_NAME_LEN),
  metadataMatch: u64,
  metadataWrite: u64,
  config: u32,
  maxEntries: u32,
  properties: fc.array(tableFeatureProp, { maxLength: 4 }),
});

// ---- Multipart -------------------------------------------------------------

const experimenterMultipart = fc.record({ mpType: fc.constant(OFPMP.EXPERIMENTER), experimenter: u32, expType: u32, data: bytes(24) });

export const multipartRequestBody: fc.Arbitrary<MultipartRequestBody> = fc.oneof(
  fc.record({
    mpType: fc.constantFrom(OFPMP.DESC, OFPMP.TABLE, OFPMP.GROUP_DESC, OFPMP.GROUP_FEATURES, OFPMP.METER_FEATURES, OFPMP.PORT_DESC),
  }),
  fc.record({ mpType: fc.constantFrom(OFPMP.FLOW, OFPMP.AGGREGATE), tableId: u8, outPort: u32, outGroup: u32, cookie: u64, cookieMask: u64, match }),
  fc.record({ mpType: fc.constant(OFPMP.PORT_STATS), portNo: u32 }),
  fc.record({ mpType: fc.constant(OFPMP.QUEUE), portNo: u32, queueId: u32 }),
  fc.record({ mpType: fc.constant(OFPMP.GROUP), groupId: u32 }),
  fc.record({ mpType: fc.constantFrom(OFPMP.METER, OFPMP.METER_CONFIG), meterId: u32 }),
  fc.record({ mpType: fc.constant(OFPMP.TABLE_FEATURES), entries: fc.array(tableFeatures, { maxLength: 2 }) }),
  experimenterMultipart,
);

const flowStats: fc.Arbitrary<FlowStats> = fc.record({
  tableId: u8,
  durationSec: u32,
  durationNsec: u32,
  priority: u16,
  idleTimeout: u16,
  hardTimeout: u16,
  flags: u16,
  cookie: u64,
  packetCount: u64,
  byteCount: u64,
  match,
  instructions,
});

const groupStats: fc.Arbitrary<GroupStats> = fc.record({
  groupId: u32,
  refCount: u32,
  packetCount: u64,
  byteCount: u64,
  durationSec: u32,
  durationNsec: u32,
  bucketStats: fc.array(fc.record({ packetCount: u64, byteCount: u64 }), { maxLength: 3 }),
});

const groupDesc: fc.Arbitrary<GroupDesc> = fc.record({ groupType: u8, groupId: u32, buckets: fc.array(bucket, { maxLength: 3 }) });

const meterStats: fc.Arbitrary<MeterStats> = fc.record({
  meterId: u32,
  flowCount: u32,
  packetInCount: u64,
  byteInCount: u64,
  durationSec: u32,
  durationNsec: u32,
  bandStats: fc.array(fc.record({ packetBandCount: u64, byteBandCount: u64 }), { maxLength: 3 }),
});

const meterConfig: fc.Arbitrary<MeterConfig> = fc.record({ flags: u16, meterId: u32, bands: fc.array(meterBand, { maxLength: 3 }) });

export const multipartReplyBody: fc.Arbitrary<MultipartReplyBody> = fc.oneof(
  fc.record({
    mpType: fc.constant(OFPMP.DESC),
    mfrDesc: fixedString(DESC_STR_LEN),
    hwDesc: fixedString(DESC_STR_LEN),
    swDesc: fixedString(DESC_STR_LEN),
    serialNum: fixedString(SERIAL_NUM_LEN),
    dpDesc: fixedString(DESC_STR_LEN),
  }),
  fc.record({ mpType: fc.constant(OFPMP.FLOW), entries: fc.array(flowStats, { maxLength: 3 }) }),
  fc.record({ mpType: fc.constant(OFPMP.AGGREGATE), packetCount: u64, byteCount: u64, flowCount: u32 }),
  fc.record({
    mpType: fc.constant(OFPMP.TABLE),
    entries: fc.array(fc.record({ tableId: u8, activeCount: u32, lookupCount: u64, matchedCount: u64 }), { maxLength: 4 }),
  }),
  fc.record({
    mpType: fc.constant(OFPMP.PORT_STATS),
    entries: fc.array(
      fc.record({
        portNo: u32,
        rxPackets: u64,
        txPackets: u64,
        rxBytes: u64,
        txBytes: u64,
        rxDropped: u64,
        txDropped: u64,
        rxErrors: u64,
        txErrors: u64,
        rxFrameErr: u64,
        rxOverErr: u64,
        rxCrcErr: u64,
        collisions: u64,
        durationSec: u32,
        durationNsec: u32,
      }),
      { maxLength: 3 },
    ),
  }),
  fc.record({
    mpType: fc.constant(OFPMP.QUEUE),
    entries: fc.array(
      fc.record({ portNo: u32, queueId: u32, txBytes: u64, txPackets: u64, txErrors: u64, durationSec: u32, durationNsec: u32 }),
      { maxLength: 3 },
    ),
  }),
  fc.record({ mpType: fc.constant(OFPMP.GROUP), entries: fc.array(groupStats, { maxLength: 3 }) }),
  fc.record({ mpType: fc.constant(OFPMP.GROUP_DESC), entries: fc.array(groupDesc, { maxLength: 3 }) }),
  fc.record({
    mpType: fc.constant(OFPMP.GROUP_FEATURES),
    types: u32,
    capabilities: u32,
    maxGroups: fc.tuple(u32, u32, u32, u32),
    actions: fc.tuple(u32, u32, u32, u32),
  }),
  fc.record({ mpType: fc.constant(OFPMP.METER), entries: fc.array(meterStats, { maxLength: 3 }) }),
  fc.record({ mpType: fc.constant(OFPMP.METER_CONFIG), entries: fc.array(meterConfig, { maxLength: 3 }) }),
  fc.record({ mpType: fc.constant(OFPMP.METER_FEATURES), maxMeter: u32, bandTypes: u32, capabilities: u32, maxBands: u8, maxColor: u8 }),
  fc.record({ mpType: fc.constant(OFPMP.TABLE_FEATURES), entries: fc.array(tableFeatures, { maxLength: 2 }) }),
  fc.record({ mpType: fc.constant(OFPMP.PORT_DESC), entries: fc.array(port, { maxLength: 3 }) }),
  experimenterMultipart,
);

// ---- Messages ----------------------------------------------------------------

/** A version bitmap, or another element type kept as its raw body. */
const helloElement: fc.Arbitrary<HelloElement> = fc.oneof(
  fc.record({ type: fc.constant(1 as const), bitmaps: fc.array(u32, { maxLength: 3 }) }),
  fc.record({ type: u16.filter((t) => t !== 1), data: bytes(12) }),
);

const errorType = fc.constantFrom(...Object.values(OFPET).filter((t) => t !== OFPET.EXPERIMENTER));

/** One arbitrary per message type, keyed by OFPT value. */
export const messageArbitraries: Record<number, fc.Arbitrary<OfpMessage>> = {
  [OFPT.HELLO]: fc.record({
    type: fc.constant(OFPT.HELLO),
    xid,
    version: fc.integer({ min: 1, max: 0xff }),
    elements: fc.array(helloElement, { maxLength: 3 }),
  }),
  [OFPT.ERROR]: fc.oneof(
    fc.record({ type: fc.constant(OFPT.ERROR), xid, errorType, code: u16, data: bytes(64) }),
    fc.record({
      type: fc.constant(OFPT.ERROR),
      xid,
      errorType: fc.constant(OFPET.EXPERIMENTER),
      expType: u16,
      experimenter: u32,
      data: bytes(64),
    }),
  ),
  [OFPT.ECHO_REQUEST]: fc.record({ type: fc.constant(OFPT.ECHO_REQUEST), xid, data: bytes(64) }),
  [OFPT.ECHO_REPLY]: fc.record({ type: fc.constant(OFPT.ECHO_REPLY), xid, data: bytes(64) }),
  [OFPT.EXPERIMENTER]: fc.record({ type: fc.constant(OFPT.EXPERIMENTER), xid, experimenter: u32, expType: u32, data: bytes(64) }),
  [OFPT.FEATURES_REQUEST]: fc.record({ type: fc.constant(OFPT.FEATURES_REQUEST), xid }),
  [OFPT.FEATURES_REPLY]: fc.record({
    type: fc.constant(OFPT.FEATURES_REPLY),
    xid,
    datapathId: u64,
    nBuffers: u32,
    nTables: u8,
    auxiliaryId: u8,
    capabilities: u32,
    reserved: u32,
  }),
  [OFPT.GET_CONFIG_REQUEST]: fc.record({ type: fc.constant(OFPT.GET_CONFIG_REQUEST), xid }),
  [OFPT.GET_CONFIG_REPLY]: fc.record({ type: fc.constant(OFPT.GET_CONFIG_REPLY), xid, flags: u16, missSendLen: u16 }),
  [OFPT.SET_CONFIG]: fc.record({ type: fc.constant(OFPT.SET_CONFIG), xid, flags: u16, missSendLen: u16 }),
  [OFPT.PACKET_IN]: fc.record({
    type: fc.constant(OFPT.PACKET_IN),
    xid,
    bufferId: u32,
    totalLen: u16,
    reason: u8,
    tableId: u8,
    cookie: u64,
    match,
    data: bytes(128),
  }),
  [OFPT.FLOW_REMOVED]: fc.record({
    type: fc.constant(OFPT.FLOW_REMOVED),
    xid,
    cookie: u64,
    priority: u16,
    reason: u8,
    tableId: u8,
    durationSec: u32,
    durationNsec: u32,
    idleTimeout: u16,
    hardTimeout: u16,
    packetCount: u64,
    byteCount: u64,
    match,
  }),
  [OFPT.PORT_STATUS]: fc.record({ type: fc.constant(OFPT.PORT_STATUS), xid, reason: u8, desc: port }),
  [OFPT.PACKET_OUT]: fc.record({ type: fc.constant(OFPT.PACKET_OUT), xid, bufferId: u32, inPort: u32, actions, data: bytes(128) }),
  [OFPT.FLOW_MOD]: fc.record({
    type: fc.constant(OFPT.FLOW_MOD),
    xid,
    cookie: u64,
    cookieMask: u64,
    tableId: u8,
    command: u8,
    idleTimeout: u16,
    hardTimeout: u16,
    priority: u16,
    bufferId: u32,
    outPort: u32,
    outGroup: u32,
    flags: u16,
    match,
    instructions,
  }),
  [OFPT.GROUP_MOD]: fc.record({
    type: fc.constant(OFPT.GROUP_MOD),
    xid,
    command: u16,
    groupType: u8,
    groupId: u32,
    buckets: fc.array(bucket, { maxLength: 4 }),
  }),
  [OFPT.PORT_MOD]: fc.record({ type: fc.constant(OFPT.PORT_MOD), xid, portNo: u32, hwAddr: mac, config: u32, mask: u32, advertise: u32 }),
  [OFPT.TABLE_MOD]: fc.record({ type: fc.constant(OFPT.TABLE_MOD), xid, tableId: u8, config: u32 }),
  [OFPT.MULTIPART_REQUEST]: fc.record({ type: fc.constant(OFPT.MULTIPART_REQUEST), xid, flags: u16, body: multipartRequestBody }),
  [OFPT.MULTIPART_REPLY]: fc.record({ type: fc.constant(OFPT.MULTIPART_REPLY), xid, flags: u16, body: multipartReplyBody }),
  [OFPT.BARRIER_REQUEST]: fc.record({ type: fc.constant(OFPT.BARRIER_REQUEST), xid }),
  [OFPT.BARRIER_REPLY]: fc.record({ type: fc.constant(OFPT.BARRIER_REPLY), xid }),
  [OFPT.QUEUE_GET_CONFIG_REQUEST]: fc.record({ type: fc.constant(OFPT.QUEUE_GET_CONFIG_REQUEST), xid, port: u32 }),
  [OFPT.QUEUE_GET_CONFIG_REPLY]: fc.record({
    type: fc.constant(OFPT.QUEUE_GET_CONFIG_REPLY),
    xid,
    port: u32,
    queues: fc.array(packetQueue, { maxLength: 3 }),
  }),
  [OFPT.ROLE_REQUEST]: fc.record({ type: fc.constant(OFPT.ROLE_REQUEST), xid, role: u32, generationId: u64 }),
  [OFPT.ROLE_REPLY]: fc.record({ type: fc.constant(OFPT.ROLE_REPLY), xid, role: u32, generationId: u64 }),
  [OFPT.GET_ASYNC_REQUEST]: fc.record({ type: fc.constant(OFPT.GET_ASYNC_REQUEST), xid }),
  [OFPT.GET_ASYNC_REPLY]: fc.record({
    type: fc.constant(OFPT.GET_ASYNC_REPLY),
    xid,
    packetInMask: fc.tuple(u32, u32),
    portStatusMask: fc.tuple(u32, u32),
    flowRemovedMask: fc.tuple(u32, u32),
  }),
  [OFPT.SET_ASYNC]: fc.record({
    type: fc.constant(OFPT.SET_ASYNC),
    xid,
    packetInMask: fc.tuple(u32, u32),
    portStatusMask: fc.tuple(u32, u32),
    flowRemovedMask: fc.tuple(u32, u32),
  }),
  [OFPT.METER_MOD]: fc.record({
    type: fc.constant(OFPT.METER_MOD),
    xid,
    command: u16,
    flags: u16,
    meterId: u32,
    bands: fc.array(meterBand, { maxLength: 4 }),
  }),
};

/** Any message, every type equally likely. */
export const message: fc.Arbitrary<OfpMessage> = fc.oneof(...Object.values(messageArbitraries));
