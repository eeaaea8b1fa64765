import { OFP_NO_BUFFER, OFPAT, OFPCR_ROLE, OFPP, OFPPR, OFPQT, OFPR, OFPRR, OFPT } from '../constants.js';
import { OFPBAC, OFPBRC, OFPET, OfpError } from '../errors.js';
import { decodeMessage, encodeMessage, messageLength, OfpMessage } from '../messages.js';
import { matchLength } from '../oxm.js';
import { PacketIn } from './async.js';

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

/** The message cut to its first `len` bytes, with the header's length saying so. */
function cut(bytes: Buffer, len: number): Buffer {
  const out = Buffer.from(bytes.subarray(0, len));
  out.writeUInt16BE(len, 2);
  return out;
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

function expectBadLen(bytes: Buffer): void {
  const e = decodeError(bytes);
  expect([e.type, e.code]).toEqual([OFPET.BAD_REQUEST, OFPBRC.BAD_LEN]);
}

const port = {
  portNo: 7,
  hwAddr: 'f2:0b:a4:d0:3f:70',
  name: 'eth7',
  config: 0,
  state: 4,
  curr: 0x2808,
  advertised: 0x2800,
  supported: 0x2808,
  peer: 0x2808,
  currSpeed: 5000,
  maxSpeed: 10000,
};

const packetIn: PacketIn = {
  type: OFPT.PACKET_IN,
  xid: 0x11,
  bufferId: OFP_NO_BUFFER,
  totalLen: 1500,
  reason: OFPR.ACTION,
  tableId: 3,
  cookie: 0xfedcba9876543210n,
  match: [
    { field: 'in_port', value: 6 },
    { field: 'eth_type', value: 0x0806 },
  ],
  data: Buffer.from('000102030405060708090a0b0c0d', 'hex'),
};

/** One hand-built message of each type, with the body length it encodes to. */
const CASES: [string, OfpMessage, number][] = [
  [
    'FEATURES_REPLY',
    {
      type: OFPT.FEATURES_REPLY,
      xid: 1,
      datapathId: 0x0000_8610_f2a0_1b2cn,
      nBuffers: 256,
      nTables: 254,
      auxiliaryId: 1,
      capabilities: 0x4f,
      reserved: 0,
    },
    24,
  ],
  ['GET_CONFIG_REPLY', { type: OFPT.GET_CONFIG_REPLY, xid: 2, flags: 1, missSendLen: 128 }, 4],
  ['SET_CONFIG', { type: OFPT.SET_CONFIG, xid: 3, flags: 2, missSendLen: 0xffff }, 4],
  ['ROLE_REQUEST', { type: OFPT.ROLE_REQUEST, xid: 4, role: OFPCR_ROLE.MASTER, generationId: 0xf000000000000001n }, 16],
  ['ROLE_REPLY', { type: OFPT.ROLE_REPLY, xid: 5, role: OFPCR_ROLE.SLAVE, generationId: 42n }, 16],
  [
    'GET_ASYNC_REPLY',
    { type: OFPT.GET_ASYNC_REPLY, xid: 6, packetInMask: [5, 1], portStatusMask: [7, 3], flowRemovedMask: [15, 3] },
    24,
  ],
  [
    'SET_ASYNC',
    { type: OFPT.SET_ASYNC, xid: 7, packetInMask: [0xffffffff, 0], portStatusMask: [1, 2], flowRemovedMask: [3, 4] },
    24,
  ],
  ['TABLE_MOD', { type: OFPT.TABLE_MOD, xid: 8, tableId: 0xff, config: 3 }, 8],
  [
    'PORT_MOD',
    { type: OFPT.PORT_MOD, xid: 9, portNo: 1, hwAddr: 'aa:bb:cc:99:88:77', config: 1, mask: 1, advertise: 0x2808 },
    32,
  ],
  ['PACKET_IN', packetIn, 16 + 24 + 2 + 14],
  [
    'FLOW_REMOVED',
    {
      type: OFPT.FLOW_REMOVED,
      xid: 10,
      cookie: 0x123456789abcdef0n,
      priority: 100,
      reason: OFPRR.HARD_TIMEOUT,
      tableId: 1,
      durationSec: 600,
      durationNsec: 500,
      idleTimeout: 400,
      hardTimeout: 300,
      packetCount: 200n,
      byteCount: 0xffffffffffffffffn,
      match: [{ field: 'eth_dst', value: 'f2:0b:a4:7d:f8:ea' }],
    },
    40 + 16,
  ],
  ['PORT_STATUS', { type: OFPT.PORT_STATUS, xid: 11, reason: OFPPR.MODIFY, desc: port }, 72],
  [
    'PACKET_OUT',
    {
      type: OFPT.PACKET_OUT,
      xid: 12,
      bufferId: OFP_NO_BUFFER,
      inPort: OFPP.CONTROLLER,
      actions: [
        { type: OFPAT.OUTPUT, port: OFPP.ALL, maxLen: 0xffff },
        { type: OFPAT.SET_QUEUE, queueId: 3 },
      ],
      data: Buffer.from('ffffffffffff', 'hex'),
    },
    16 + 24 + 6,
  ],
  ['QUEUE_GET_CONFIG_REQUEST', { type: OFPT.QUEUE_GET_CONFIG_REQUEST, xid: 13, port: OFPP.ANY }, 8],
  [
    'QUEUE_GET_CONFIG_REPLY',
    {
      type: OFPT.QUEUE_GET_CONFIG_REPLY,
      xid: 14,
      port: 77,
      queues: [
        {
          queueId: 99,
          port: 77,
          properties: [
            { property: OFPQT.MIN_RATE, rate: 10 },
            { property: OFPQT.MAX_RATE, rate: 900 },
            { property: OFPQT.EXPERIMENTER, experimenter: 999, data: Buffer.from([1, 2, 3]) },
          ],
        },
        { queueId: 1, port: 77, properties: [] },
      ],
    },
    8 + (16 + 16 + 16 + 19) + 16,
  ],
];

describe('switch, async, packet-out and queue-config messages', () => {
  it.each(CASES)('%s round-trips with a computed length', (_name, msg, bodyLength) => {
    const bytes = roundTrip(msg);
    expect(bytes.length).toBe(8 + bodyLength);
  });

  it.each(CASES)('%s cut short of its fixed part is OFPBRC_BAD_LEN', (_name, msg) => {
    const bytes = encodeMessage(msg);
    // One byte short of the fixed part before any variable-length list or data.
    const fixed: Partial<Record<number, number>> = {
      [OFPT.PACKET_IN]: 16,
      [OFPT.FLOW_REMOVED]: 40,
      [OFPT.PORT_STATUS]: 72,
      [OFPT.PACKET_OUT]: 16,
      [OFPT.QUEUE_GET_CONFIG_REPLY]: 8,
    };
    expectBadLen(cut(bytes, 8 + (fixed[msg.type] ?? bytes.length - 8) - 1));
  });

  it('reads a body too long for a fixed-size message as OFPBRC_BAD_LEN', () => {
    const bytes = encodeMessage({ type: OFPT.SET_CONFIG, xid: 1, flags: 0, missSendLen: 128 });
    const longer = Buffer.concat([bytes, Buffer.alloc(4)]);
    longer.writeUInt16BE(longer.length, 2);
    expectBadLen(longer);
  });

  describe('PACKET_IN', () => {
    it('computes the match length, its padding, the 2 pad bytes and the message length', () => {
      const bytes = encodeMessage(packetIn);
      // Two OXMs: in_port (4+4) and eth_type (4+2) after the 4-byte match header.
      const ofpMatchLen = 4 + 8 + 6;
      expect(matchLength(packetIn.match)).toBe(ofpMatchLen + 6);
      expect(bytes.readUInt16BE(2)).toBe(8 + 16 + 24 + 2 + packetIn.data.length);
      expect(bytes.readUInt32BE(8)).toBe(OFP_NO_BUFFER);
      // total_len is the frame's length as given, not the data's.
      expect(bytes.readUInt16BE(12)).toBe(1500);
      expect(bytes.readUInt16BE(24)).toBe(1);
      expect(bytes.readUInt16BE(26)).toBe(ofpMatchLen);
      expect(bytes.subarray(8 + 16 + ofpMatchLen, 8 + 16 + 24 + 2).equals(Buffer.alloc(6 + 2))).toBe(true);
      expect(bytes.subarray(8 + 16 + 24 + 2).equals(packetIn.data)).toBe(true);
    });

    it('round-trips an empty match and no data', () => {
      const bytes = roundTrip({ ...packetIn, match: [], data: Buffer.alloc(0) });
      expect(bytes.length).toBe(8 + 16 + 8 + 2);
    });

    it('reports missing pad bytes after the match as OFPBRC_BAD_LEN', () => {
      const bytes = encodeMessage({ ...packetIn, data: Buffer.alloc(0) });
      expectBadLen(cut(bytes, bytes.length - 1));
    });

    it('does not alias the input buffer', () => {
      const bytes = encodeMessage(packetIn);
      const decoded = decodeMessage(bytes) as PacketIn;
      bytes.fill(0xee);
      expect(decoded.data.equals(packetIn.data)).toBe(true);
    });
  });

  describe('PACKET_OUT', () => {
    const out: OfpMessage = {
      type: OFPT.PACKET_OUT,
      xid: 1,
      bufferId: 7,
      inPort: 1,
      actions: [{ type: OFPAT.OUTPUT, port: 2, maxLen: 0 }],
      data: Buffer.alloc(0),
    };

    it('computes actions_len', () => {
      expect(encodeMessage(out).readUInt16BE(16)).toBe(16);
      expect(encodeMessage({ ...out, actions: [] }).readUInt16BE(16)).toBe(0);
    });

    it('reports actions_len past the end as OFPBRC_BAD_LEN', () => {
      const bytes = encodeMessage(out);
      bytes.writeUInt16BE(24, 16);
      expectBadLen(bytes);
    });

    it('reports a malformed action with its own code', () => {
      const bytes = encodeMessage(out);
      bytes.writeUInt16BE(12, 26);
      const e = decodeError(bytes);
      expect([e.type, e.code]).toEqual([OFPET.BAD_ACTION, OFPBAC.BAD_LEN]);
    });
  });

  describe('QUEUE_GET_CONFIG_REPLY', () => {
    it('keeps an unknown property raw and re-encodes it identically', () => {
      roundTrip({
        type: OFPT.QUEUE_GET_CONFIG_REPLY,
        xid: 1,
        port: 1,
        queues: [{ queueId: 5, port: 1, properties: [{ property: 0x77, data: Buffer.from([9, 8, 7]) }] }],
      });
    });

    it('leaves queue and property lengths unpadded', () => {
      const bytes = encodeMessage({
        type: OFPT.QUEUE_GET_CONFIG_REPLY,
        xid: 1,
        port: 1,
        queues: [{ queueId: 5, port: 1, properties: [{ property: OFPQT.EXPERIMENTER, experimenter: 1, data: Buffer.from([1]) }] }],
      });
      expect(bytes.length).toBe(8 + 8 + 16 + 17);
      expect(bytes.readUInt16BE(16 + 8)).toBe(16 + 17);
      expect(bytes.readUInt16BE(32 + 2)).toBe(17);
    });

    it.each([
      ['a queue length under 16', 16 + 8, 8],
      ['a queue length past the end', 16 + 8, 200],
      ['a property length under 8', 32 + 2, 4],
      ['a rate property not 16 bytes', 32 + 2, 24],
    ])('reports %s as OFPBRC_BAD_LEN', (_what, at, value) => {
      const bytes = encodeMessage({
        type: OFPT.QUEUE_GET_CONFIG_REPLY,
        xid: 1,
        port: 1,
        queues: [{ queueId: 5, port: 1, properties: [{ property: OFPQT.MIN_RATE, rate: 1 }, { property: OFPQT.MAX_RATE, rate: 2 }] }],
      });
      bytes.writeUInt16BE(value, at);
      expectBadLen(bytes);
    });
  });
});
