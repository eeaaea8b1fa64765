import {
  OFPAT,
  OFPG,
  OFPGC,
  OFPGT,
  OFPIT,
  OFPM,
  OFPMBT,
  OFPMC,
  OFPMF,
  OFPMP,
  OFPMPF,
  OFPP,
  OFPT,
  OFPTFPT,
  OFPTT,
  OFPXMC,
} from '../constants.js';
import { OFPBAC, OFPBRC, OFPET, OFPGMFC, OFPMMFC, OFPTFFC, OfpError } from '../errors.js';
import { decodeMessage, encodeMessage, messageLength, OfpMessage } from '../messages.js';
import { Bucket, GroupMod } from './group-mod.js';
import { MeterBand, MeterMod } from './meter-mod.js';
import { FlowStats, MultipartReplyBody, MultipartRequestBody } from './multipart.js';
import { TableFeatureProp, TableFeatures } from './table-features.js';

/** encode → decode deep-equal → encode byte-identical. */
function roundTrip(msg: OfpMessage): Buffer {
  const bytes = encodeMessage(msg);
  expect(bytes.readUInt16BE(2)).toBe(bytes.length);
  expect(messageLength(msg)).toBe(bytes.length);
  const decoded = decodeMessage(bytes);
  expect(decoded).toEqual(msg);
  expect(encodeMessage(decoded).equals(bytes)).toBe(true);
  return bytes;
}

function decodeError(bytes: Buffer): OfpError {
  try {
    decodeMessage(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(OfpError);
    return e as OfpError;
  }
  throw new Error('decoded without error');
}

function expectError(bytes: Buffer, type: number, code: number): void {
  const e = decodeError(bytes);
  expect([e.type, e.code]).toEqual([type, code]);
}

const request = (body: MultipartRequestBody, flags = 0): OfpMessage => ({ type: OFPT.MULTIPART_REQUEST, xid: 0x1234, flags, body });
const reply = (body: MultipartReplyBody, flags = 0): OfpMessage => ({ type: OFPT.MULTIPART_REPLY, xid: 0x4321, flags, body });

const flowStats: FlowStats = {
  tableId: 1,
  durationSec: 358,
  durationNsec: 115277000,
  priority: 65534,
  idleTimeout: 10,
  hardTimeout: 20,
  flags: 1,
  cookie: 0xfedcba9876543210n,
  packetCount: 3n,
  byteCount: 238n,
  match: [
    { field: 'in_port', value: 6 },
    { field: 'eth_dst', value: 'f2:0b:a4:7d:f8:ea', mask: 'ff:ff:ff:00:00:00' },
  ],
  instructions: [
    { type: OFPIT.GOTO_TABLE, tableId: 2 },
    { type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.OUTPUT, port: OFPP.CONTROLLER, maxLen: 0xffff }] },
  ],
};

const buckets: Bucket[] = [
  { weight: 1, watchPort: 1, watchGroup: OFPG.ANY, actions: [{ type: OFPAT.OUTPUT, port: 2, maxLen: 0 }] },
  { weight: 2, watchPort: OFPP.ANY, watchGroup: 7, actions: [] },
];

const bands: MeterBand[] = [
  { type: OFPMBT.DROP, rate: 1000, burstSize: 10 },
  { type: OFPMBT.DSCP_REMARK, rate: 2000, burstSize: 20, precLevel: 1 },
  { type: OFPMBT.EXPERIMENTER, rate: 3000, burstSize: 30, experimenter: 999, data: Buffer.from('abcdefgh') },
];

const nextTables = (nextTableIds: number[]): TableFeatureProp => ({ type: OFPTFPT.NEXT_TABLES, nextTableIds });

const tableFeatures: TableFeatures = {
  tableId: 0,
  name: '私のテーブル',
  metadataMatch: 0xffffffffffffffffn,
  metadataWrite: 0xff00n,
  config: 3,
  maxEntries: 16777216,
  properties: [
    {
      type: OFPTFPT.INSTRUCTIONS,
      instructionIds: [{ type: OFPIT.GOTO_TABLE }, { type: OFPIT.EXPERIMENTER, experimenter: 0x2320, data: Buffer.from([1, 2]) }],
    },
    { type: OFPTFPT.INSTRUCTIONS_MISS, instructionIds: [{ type: OFPIT.APPLY_ACTIONS }] },
    { type: OFPTFPT.NEXT_TABLES, nextTableIds: [1, 2, 3] },
    { type: OFPTFPT.NEXT_TABLES_MISS, nextTableIds: [] },
    { type: OFPTFPT.WRITE_ACTIONS, actionIds: [{ type: OFPAT.OUTPUT }, { type: OFPAT.GROUP }] },
    { type: OFPTFPT.WRITE_ACTIONS_MISS, actionIds: [{ type: OFPAT.EXPERIMENTER, experimenter: 0x4f4e4600, data: Buffer.alloc(0) }] },
    { type: OFPTFPT.APPLY_ACTIONS, actionIds: [{ type: OFPAT.SET_FIELD }] },
    { type: OFPTFPT.APPLY_ACTIONS_MISS, actionIds: [] },
    {
      type: OFPTFPT.MATCH,
      oxmIds: [
        { oxmClass: OFPXMC.OPENFLOW_BASIC, field: 0, hasMask: false, length: 4 },
        { oxmClass: OFPXMC.EXPERIMENTER, field: 5, hasMask: true, length: 0, experimenter: 0x4f4e4600 },
      ],
    },
    { type: OFPTFPT.WILDCARDS, oxmIds: [{ oxmClass: OFPXMC.OPENFLOW_BASIC, field: 3, hasMask: true, length: 12 }] },
    { type: OFPTFPT.WRITE_SETFIELD, oxmIds: [{ oxmClass: OFPXMC.OPENFLOW_BASIC, field: 6, hasMask: false, length: 0 }] },
    { type: OFPTFPT.WRITE_SETFIELD_MISS, oxmIds: [] },
    { type: OFPTFPT.APPLY_SETFIELD, oxmIds: [{ oxmClass: OFPXMC.NXM_1, field: 33, hasMask: false, length: 4 }] },
    { type: OFPTFPT.APPLY_SETFIELD_MISS, oxmIds: [{ oxmClass: OFPXMC.OPENFLOW_BASIC, field: 5, hasMask: false, length: 0 }] },
    { type: OFPTFPT.EXPERIMENTER, experimenter: 101, expType: 1, data: Buffer.from([0, 0, 0, 1]) },
    { type: OFPTFPT.EXPERIMENTER_MISS, experimenter: 101, expType: 2, data: Buffer.from([9]) },
  ],
};

describe('multipart requests', () => {
  const bodies: [string, MultipartRequestBody][] = [
    ['DESC', { mpType: OFPMP.DESC }],
    ['FLOW', { mpType: OFPMP.FLOW, tableId: 1, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 5n, cookieMask: 0xffn, match: flowStats.match }],
    ['AGGREGATE', { mpType: OFPMP.AGGREGATE, tableId: OFPTT.ALL, outPort: 3, outGroup: 4, cookie: 0n, cookieMask: 0n, match: [] }],
    ['TABLE', { mpType: OFPMP.TABLE }],
    ['PORT_STATS', { mpType: OFPMP.PORT_STATS, portNo: OFPP.ANY }],
    ['QUEUE', { mpType: OFPMP.QUEUE, portNo: 7, queueId: 0xffffffff }],
    ['GROUP', { mpType: OFPMP.GROUP, groupId: OFPG.ALL }],
    ['GROUP_DESC', { mpType: OFPMP.GROUP_DESC }],
    ['GROUP_FEATURES', { mpType: OFPMP.GROUP_FEATURES }],
    ['METER', { mpType: OFPMP.METER, meterId: OFPM.ALL }],
    ['METER_CONFIG', { mpType: OFPMP.METER_CONFIG, meterId: 100 }],
    ['METER_FEATURES', { mpType: OFPMP.METER_FEATURES }],
    ['TABLE_FEATURES', { mpType: OFPMP.TABLE_FEATURES, entries: [tableFeatures] }],
    ['TABLE_FEATURES (query only)', { mpType: OFPMP.TABLE_FEATURES, entries: [] }],
    ['PORT_DESC', { mpType: OFPMP.PORT_DESC }],
    ['EXPERIMENTER', { mpType: OFPMP.EXPERIMENTER, experimenter: 0x4f4e4600, expType: 1870, data: Buffer.from('opaque body') }],
  ];

  it.each(bodies)('%s round-trips', (_name, body) => {
    roundTrip(request(body, OFPMPF.REQ_MORE));
  });

  it('lays out the header and a fixed body as the spec does', () => {
    const bytes = roundTrip(request({ mpType: OFPMP.QUEUE, portNo: 7, queueId: 2 }, OFPMPF.REQ_MORE));
    expect(bytes.toString('hex')).toBe('0412' + '0018' + '00001234' + '0005' + '0001' + '00000000' + '00000007' + '00000002');
  });
});

describe('multipart replies', () => {
  const bodies: [string, MultipartReplyBody][] = [
    ['DESC', { mpType: OFPMP.DESC, mfrDesc: 'mfr', hwDesc: 'hw', swDesc: 'sw', serialNum: 'serial', dpDesc: 'dp' }],
    ['FLOW', { mpType: OFPMP.FLOW, entries: [flowStats, { ...flowStats, match: [], instructions: [] }] }],
    ['AGGREGATE', { mpType: OFPMP.AGGREGATE, packetCount: 7n, byteCount: 574n, flowCount: 6 }],
    [
      'TABLE',
      {
        mpType: OFPMP.TABLE,
        entries: [
          { tableId: 0, activeCount: 4, lookupCount: 10n, matchedCount: 8n },
          { tableId: 1, activeCount: 0, lookupCount: 0n, matchedCount: 0n },
        ],
      },
    ],
    [
      'PORT_STATS',
      {
        mpType: OFPMP.PORT_STATS,
        entries: [
          {
            portNo: 7,
            rxPackets: 1n,
            txPackets: 2n,
            rxBytes: 3n,
            txBytes: 4n,
            rxDropped: 5n,
            txDropped: 6n,
            rxErrors: 7n,
            txErrors: 8n,
            rxFrameErr: 9n,
            rxOverErr: 10n,
            rxCrcErr: 11n,
            collisions: 12n,
            durationSec: 13,
            durationNsec: 14,
          },
        ],
      },
    ],
    [
      'QUEUE',
      {
        mpType: OFPMP.QUEUE,
        entries: [{ portNo: 7, queueId: 1, txBytes: 100n, txPackets: 2n, txErrors: 0n, durationSec: 3, durationNsec: 4 }],
      },
    ],
    [
      'GROUP',
      {
        mpType: OFPMP.GROUP,
        entries: [
          {
            groupId: 1,
            refCount: 2,
            packetCount: 123n,
            byteCount: 12345n,
            durationSec: 9,
            durationNsec: 609036000,
            bucketStats: [
              { packetCount: 234n, byteCount: 2345n },
              { packetCount: 0n, byteCount: 0n },
            ],
          },
          { groupId: 2, refCount: 0, packetCount: 0n, byteCount: 0n, durationSec: 0, durationNsec: 0, bucketStats: [] },
        ],
      },
    ],
    ['GROUP_DESC', { mpType: OFPMP.GROUP_DESC, entries: [{ groupType: OFPGT.SELECT, groupId: 1, buckets }] }],
    [
      'GROUP_FEATURES',
      {
        mpType: OFPMP.GROUP_FEATURES,
        types: 15,
        capabilities: 5,
        maxGroups: [16777216, 1, 2, 3],
        actions: [67082241, 4, 5, 6],
      },
    ],
    [
      'METER',
      {
        mpType: OFPMP.METER,
        entries: [
          {
            meterId: 100,
            flowCount: 1,
            packetInCount: 2n,
            byteInCount: 3n,
            durationSec: 4,
            durationNsec: 480000,
            bandStats: [{ packetBandCount: 5n, byteBandCount: 6n }],
          },
        ],
      },
    ],
    ['METER_CONFIG', { mpType: OFPMP.METER_CONFIG, entries: [{ flags: OFPMF.KBPS | OFPMF.STATS, meterId: 100, bands: bands }] }],
    ['METER_FEATURES', { mpType: OFPMP.METER_FEATURES, maxMeter: 16777216, bandTypes: 6, capabilities: 15, maxBands: 255, maxColor: 0 }],
    ['TABLE_FEATURES', { mpType: OFPMP.TABLE_FEATURES, entries: [tableFeatures, { ...tableFeatures, tableId: 1, name: 'Flow Table 0x01', properties: [] }] }],
    [
      'PORT_DESC',
      {
        mpType: OFPMP.PORT_DESC,
        entries: [
          {
            portNo: 7,
            hwAddr: 'f2:0b:a4:d0:3f:70',
            name: 'Port7',
            config: 0,
            state: 4,
            curr: 0x2808,
            advertised: 0x2800,
            supported: 0x2808,
            peer: 0x2808,
            currSpeed: 5000,
            maxSpeed: 5000,
          },
        ],
      },
    ],
    ['EXPERIMENTER', { mpType: OFPMP.EXPERIMENTER, experimenter: 0xdeadbeef, expType: 0xcafe7777, data: Buffer.from('testdata') }],
  ];

  it.each(bodies)('%s round-trips', (_name, body) => {
    roundTrip(reply(body, OFPMPF.REPLY_MORE));
  });

  it('computes each flow stats entry length', () => {
    const bytes = roundTrip(reply({ mpType: OFPMP.FLOW, entries: [flowStats] }));
    // 48 fixed + match (4 + 8 + 16 = 28, padded to 32) + goto (8) + apply-actions (8 + 16)
    expect(bytes.readUInt16BE(16)).toBe(48 + 32 + 8 + 24);
  });

  it('pads table feature properties to 8 bytes, their length excluding the padding', () => {
    const bytes = roundTrip(reply({ mpType: OFPMP.TABLE_FEATURES, entries: [{ ...tableFeatures, properties: [nextTables([1, 2, 3])] }] }));
    expect(bytes.readUInt16BE(16)).toBe(64 + 8);
    expect(bytes.readUInt16BE(16 + 64 + 2)).toBe(7);
  });
});

describe('GROUP_MOD and METER_MOD', () => {
  it('GROUP_MOD round-trips', () => {
    const msg: GroupMod = { type: OFPT.GROUP_MOD, xid: 9, command: OFPGC.MODIFY, groupType: OFPGT.FF, groupId: 1, buckets };
    const bytes = roundTrip(msg);
    expect(bytes.length).toBe(16 + 32 + 16);
  });

  it('METER_MOD round-trips every band type', () => {
    const msg: MeterMod = {
      type: OFPT.METER_MOD,
      xid: 10,
      command: OFPMC.ADD,
      flags: OFPMF.PKTPS | OFPMF.BURST,
      meterId: 100,
      bands: bands,
    };
    const bytes = roundTrip(msg);
    expect(bytes.length).toBe(16 + 16 + 16 + 24);
  });
});

describe('malformed multipart messages', () => {
  it('an unknown multipart type is OFPBRC_BAD_MULTIPART in both directions', () => {
    for (const type of [OFPT.MULTIPART_REQUEST, OFPT.MULTIPART_REPLY]) {
      const bytes = encodeMessage(request({ mpType: OFPMP.DESC }));
      bytes[1] = type;
      bytes.writeUInt16BE(0x20, 8);
      expectError(bytes, OFPET.BAD_REQUEST, OFPBRC.BAD_MULTIPART);
    }
  });

  it('a table-feature property overrunning its entry is OFPTFFC_BAD_LEN', () => {
    const entry = { ...tableFeatures, properties: [nextTables([1, 2, 3])] };
    const bytes = encodeMessage(request({ mpType: OFPMP.TABLE_FEATURES, entries: [entry] }));
    bytes.writeUInt16BE(9, 16 + 64 + 2);
    expectError(bytes, OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_LEN);
  });

  it('an unknown table-feature property is OFPTFFC_BAD_TYPE', () => {
    const entry = { ...tableFeatures, properties: [nextTables([])] };
    const bytes = encodeMessage(request({ mpType: OFPMP.TABLE_FEATURES, entries: [entry] }));
    bytes.writeUInt16BE(9, 16 + 64);
    expectError(bytes, OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_TYPE);
  });

  it('a bucket shorter than its header is OFPGMFC_BAD_BUCKET', () => {
    const bytes = encodeMessage({ type: OFPT.GROUP_MOD, xid: 1, command: OFPGC.ADD, groupType: OFPGT.ALL, groupId: 1, buckets });
    bytes.writeUInt16BE(8, 16);
    expectError(bytes, OFPET.GROUP_MOD_FAILED, OFPGMFC.BAD_BUCKET);
  });

  it('an action inside a bucket keeps its own error', () => {
    const bytes = encodeMessage({ type: OFPT.GROUP_MOD, xid: 1, command: OFPGC.ADD, groupType: OFPGT.ALL, groupId: 1, buckets });
    bytes.writeUInt16BE(0x7777, 16 + 16);
    expectError(bytes, OFPET.BAD_ACTION, OFPBAC.BAD_TYPE);
  });

  it('an unknown meter band type is OFPMMFC_BAD_BAND', () => {
    const bytes = encodeMessage({ type: OFPT.METER_MOD, xid: 1, command: OFPMC.ADD, flags: 0, meterId: 1, bands: [bands[0]] });
    bytes.writeUInt16BE(3, 16);
    expectError(bytes, OFPET.METER_MOD_FAILED, OFPMMFC.BAD_BAND);
  });

  it('a truncated flow stats entry is OFPBRC_BAD_LEN, never an out-of-range read', () => {
    const bytes = encodeMessage(reply({ mpType: OFPMP.FLOW, entries: [flowStats] }));
    for (let len = 17; len < bytes.length; len++) {
      const cut = Buffer.from(bytes.subarray(0, len));
      cut.writeUInt16BE(len, 2);
      expectError(cut, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN);
    }
    const lying = Buffer.from(bytes);
    lying.writeUInt16BE(bytes.length, 16);
    expectError(lying, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN);
  });

  it('a truncated fixed body is OFPBRC_BAD_LEN', () => {
    const bytes = encodeMessage(reply({ mpType: OFPMP.AGGREGATE, packetCount: 1n, byteCount: 2n, flowCount: 3 }));
    const cut = Buffer.from(bytes.subarray(0, bytes.length - 4));
    cut.writeUInt16BE(cut.length, 2);
    expectError(cut, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN);
  });
});
