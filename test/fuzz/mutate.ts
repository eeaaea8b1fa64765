/**
 * Mutation fuzzing of OpenFlow messages, deterministic from a seed: a
 * corpus of valid messages of every type (the property arbitraries, plus
 * messages a tenant could really send, so mutations reach past the first
 * ownership check), body mutations that keep the header right (version
 * 1.3, the type, a length that matches the bytes), and framing mutations
 * (a bad header length, a wrong version, a truncated message, a HELLO
 * without 1.3), each with what a correct peer answers.
 */
import fc from 'fast-check';
import {
  encodeMessage,
  OFP_HEADER_SIZE,
  OFP_MAX_MESSAGE_SIZE,
  OFPAT,
  OFPCR_ROLE,
  OFPFC,
  OFPFF,
  OFPG,
  OFPGC,
  OFPGT,
  OFPIT,
  OFPMBT,
  OFPMC,
  OFPM,
  OFPMF,
  OFPMP,
  OFPP,
  OFPQ_ALL,
  OFPT,
  OFPTT,
  type MultipartRequestBody,
  type OfpMessage,
} from '@nicvisor/openflow';
import { messageArbitraries } from '../property/arbitraries.js';

/** mulberry32: a small, fast 32-bit PRNG; the same seed gives the same campaign. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** 0 ≤ n < max (max ≥ 1). */
  int(max: number): number {
    return this.u32() % max;
  }

  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
}

/** A request body of every multipart type (the experimenter one included), for flows in all tables and `portNo`'s stats. */
export function everyMultipartRequest(portNo: number): MultipartRequestBody[] {
  const flows = { tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] };
  return [
    { mpType: OFPMP.DESC },
    { mpType: OFPMP.FLOW, ...flows },
    { mpType: OFPMP.AGGREGATE, ...flows },
    { mpType: OFPMP.TABLE },
    { mpType: OFPMP.PORT_STATS, portNo },
    { mpType: OFPMP.QUEUE, portNo: OFPP.ANY, queueId: OFPQ_ALL },
    { mpType: OFPMP.GROUP, groupId: OFPG.ALL },
    { mpType: OFPMP.GROUP_DESC },
    { mpType: OFPMP.GROUP_FEATURES },
    { mpType: OFPMP.METER, meterId: OFPM.ALL },
    { mpType: OFPMP.METER_CONFIG, meterId: OFPM.ALL },
    { mpType: OFPMP.METER_FEATURES },
    { mpType: OFPMP.TABLE_FEATURES, entries: [] },
    { mpType: OFPMP.PORT_DESC },
    { mpType: OFPMP.EXPERIMENTER, experimenter: 0x2320, expType: 1, data: Buffer.alloc(0) },
  ];
}

/** Messages a tenant owning `ports` (view tables 0..nTables-1) could send: valid, most of them allowed. */
export function tenantMessages(ports: readonly number[], nTables: number): OfpMessage[] {
  const [p1, p2] = ports as [number, number];
  const out = (port: number) => ({ type: OFPAT.OUTPUT, port, maxLen: 0xffff });
  const flow = (tableId: number, priority: number, extra: Partial<Extract<OfpMessage, { type: 14 }>> = {}): OfpMessage => ({
    type: OFPT.FLOW_MOD,
    xid: 0,
    cookie: BigInt(priority),
    cookieMask: 0n,
    tableId,
    command: OFPFC.ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority,
    bufferId: 0xffffffff,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [
      { field: 'in_port', value: p1 },
      { field: 'eth_type', value: 0x0800 },
      { field: 'ip_proto', value: 6 },
      { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.255.0.0' },
      { field: 'tcp_dst', value: 443 },
    ],
    instructions: [
      { type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.SET_FIELD, field: { field: 'eth_dst', value: '02:00:00:00:00:01' } }, out(p2)] },
      ...(tableId + 1 < nTables ? [{ type: OFPIT.GOTO_TABLE, tableId: tableId + 1 }] : []),
    ],
    ...extra,
  });
  const multipart = everyMultipartRequest(p1).map((body): OfpMessage => ({ type: OFPT.MULTIPART_REQUEST, xid: 0, flags: 0, body }) as OfpMessage);
  return [
    flow(0, 100),
    flow(1 % nTables, 200, { flags: OFPFF.SEND_FLOW_REM, idleTimeout: 60 }),
    flow(0, 100, { command: OFPFC.MODIFY, instructions: [{ type: OFPIT.WRITE_ACTIONS, actions: [out(p1)] }] }),
    flow(0, 100, { command: OFPFC.DELETE_STRICT }),
    flow(OFPTT.ALL, 0, { command: OFPFC.DELETE, match: [], instructions: [] }),
    flow(0, 5, { match: [{ field: 'eth_type', value: 0x86dd }, { field: 'ipv6_src', value: 'fe80::1' }], instructions: [{ type: OFPIT.METER, meterId: 1 }, { type: OFPIT.WRITE_METADATA, metadata: 1n, metadataMask: 1n }] }),
    { type: OFPT.GROUP_MOD, xid: 0, command: OFPGC.ADD, groupType: OFPGT.SELECT, groupId: 7, buckets: [{ weight: 1, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: [out(p1)] }, { weight: 2, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: [out(p2)] }] },
    { type: OFPT.GROUP_MOD, xid: 0, command: OFPGC.DELETE, groupType: OFPGT.ALL, groupId: OFPG.ALL, buckets: [] },
    { type: OFPT.METER_MOD, xid: 0, command: OFPMC.ADD, flags: OFPMF.PKTPS | OFPMF.BURST, meterId: 1, bands: [{ type: OFPMBT.DROP, rate: 100, burstSize: 10 }, { type: OFPMBT.DSCP_REMARK, rate: 50, burstSize: 5, precLevel: 1 }] },
    { type: OFPT.METER_MOD, xid: 0, command: OFPMC.DELETE, flags: 0, meterId: 1, bands: [] },
    { type: OFPT.PACKET_OUT, xid: 0, bufferId: 0xffffffff, inPort: OFPP.CONTROLLER, actions: [out(p2)], data: Buffer.alloc(60, 0x42) },
    { type: OFPT.PORT_MOD, xid: 0, portNo: p1, hwAddr: '02:00:00:00:00:01', config: 0, mask: 0, advertise: 0 },
    { type: OFPT.TABLE_MOD, xid: 0, tableId: 0, config: 0 },
    { type: OFPT.QUEUE_GET_CONFIG_REQUEST, xid: 0, port: p1 },
    { type: OFPT.ROLE_REQUEST, xid: 0, role: OFPCR_ROLE.MASTER, generationId: 1n },
    { type: OFPT.SET_CONFIG, xid: 0, flags: 0, missSendLen: 128 },
    { type: OFPT.SET_ASYNC, xid: 0, packetInMask: [1, 0], portStatusMask: [7, 7], flowRemovedMask: [15, 0] },
    { type: OFPT.ECHO_REQUEST, xid: 0, data: Buffer.from('ping') },
    { type: OFPT.FEATURES_REQUEST, xid: 0 },
    { type: OFPT.GET_CONFIG_REQUEST, xid: 0 },
    { type: OFPT.GET_ASYNC_REQUEST, xid: 0 },
    { type: OFPT.BARRIER_REQUEST, xid: 0 },
    ...multipart,
  ];
}

/**
 * The corpus: `perType` arbitrary messages of every type (seeded), and the
 * tenant's realistic messages, each as encoded bytes.
 */
export function corpus(seed: number, perType: number, tenant: OfpMessage[]): Buffer[] {
  const out: Buffer[] = [];
  for (const arb of Object.values(messageArbitraries)) for (const m of fc.sample(arb, { seed, numRuns: perType })) out.push(encodeMessage(m));
  for (const m of tenant) out.push(encodeMessage(m));
  return out;
}

const I8 = [0x00, 0x01, 0x7f, 0x80, 0xff];
const I16 = [0, 1, 4, 7, 8, 15, 16, 24, 0x7fff, 0x8000, 0xfffe, 0xffff];
const I32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffff00, 0xfffffff8, 0xfffffffd, 0xfffffffe, 0xffffffff];

/** One change to a message body (never empty-handed: a body too short for an operation grows instead). */
function mutateOnce(body: Buffer, rng: Rng, donor: Buffer): Buffer {
  const n = body.length;
  const at = (w: number) => rng.int(n - w + 1);
  switch (rng.int(10)) {
    case 0: // flip 1..4 bits
      if (n === 0) break;
      for (let k = 1 + rng.int(4); k > 0; k--) body[rng.int(n)] ^= 1 << rng.int(8);
      return body;
    case 1:
      if (n === 0) break;
      body[rng.int(n)] = rng.pick(I8);
      return body;
    case 2: // a 16-bit field: inner lengths, types, ports
      if (n < 2) break;
      body.writeUInt16BE(rng.pick(I16), at(2) & ~1);
      return body;
    case 3:
      if (n < 4) break;
      body.writeUInt32BE(rng.pick(I32), at(4) & ~3);
      return body;
    case 4: // truncate
      if (n === 0) break;
      return body.subarray(0, rng.int(n));
    case 5: // delete a range
      if (n === 0) break;
      {
        const a = rng.int(n);
        const b = a + 1 + rng.int(Math.min(16, n - a));
        return Buffer.concat([body.subarray(0, a), body.subarray(b)]);
      }
    case 6: // duplicate a range
      if (n === 0) break;
      {
        const a = rng.int(n);
        const b = a + 1 + rng.int(Math.min(32, n - a));
        return Buffer.concat([body.subarray(0, b), body.subarray(a, b), body.subarray(b)]);
      }
    case 7: // splice another message's body tail in
      {
        const cut = rng.int(n + 1);
        const from = donor.length > OFP_HEADER_SIZE ? OFP_HEADER_SIZE + rng.int(donor.length - OFP_HEADER_SIZE) : donor.length;
        return Buffer.concat([body.subarray(0, cut), donor.subarray(from)]);
      }
    case 8: // insert random bytes
      break;
    default: // append random bytes
      return Buffer.concat([body, randomBytes(rng, 1 + rng.int(24))]);
  }
  const a = rng.int(n + 1);
  return Buffer.concat([body.subarray(0, a), randomBytes(rng, 1 + rng.int(16)), body.subarray(a)]);
}

function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

/** A body-mutated copy of `raw`: 1–3 changes to the body; the header keeps version 1.3 and the type, its length fits the bytes. */
export function mutateBody(raw: Buffer, rng: Rng, donor: Buffer, xid: number): Buffer {
  let body: Buffer = Buffer.from(raw.subarray(OFP_HEADER_SIZE));
  for (let k = 1 + rng.int(3); k > 0; k--) body = mutateOnce(Buffer.from(body), rng, donor);
  body = body.subarray(0, OFP_MAX_MESSAGE_SIZE - OFP_HEADER_SIZE);
  const out = Buffer.allocUnsafe(OFP_HEADER_SIZE + body.length);
  out[0] = raw[0]!;
  out[1] = raw[1]!;
  out.writeUInt16BE(out.length, 2);
  out.writeUInt32BE(xid, 4);
  body.copy(out, OFP_HEADER_SIZE);
  return out;
}

export type FramingKind = 'length-under-8' | 'length-short' | 'length-long' | 'truncated' | 'version' | 'hello';

export interface FramingCase {
  kind: FramingKind;
  /** The bytes to send after the HELLO exchange (for 'hello': instead of our HELLO). */
  bytes: Buffer;
  /** Whether the client half-closes after the bytes (the server must still answer), or waits for the server to close. */
  halfClose: boolean;
  /** The xid an error must carry (undefined: any). */
  xid: number | undefined;
}

/** A framing mutation of `raw` (valid, xid set), one of each kind in turn. */
export function mutateFraming(raw: Buffer, rng: Rng, kind: FramingKind): FramingCase {
  const b = Buffer.from(raw);
  const len = b.length;
  const xid = b.readUInt32BE(4);
  switch (kind) {
    case 'length-under-8':
      b.writeUInt16BE(rng.int(OFP_HEADER_SIZE), 2);
      return { kind, bytes: b, halfClose: false, xid };
    case 'length-short':
      b.writeUInt16BE(OFP_HEADER_SIZE + rng.int(Math.max(1, len - OFP_HEADER_SIZE)), 2);
      return { kind, bytes: b, halfClose: true, xid: undefined };
    case 'length-long':
      b.writeUInt16BE(len + 1 + rng.int(OFP_MAX_MESSAGE_SIZE - len), 2);
      return { kind, bytes: b, halfClose: true, xid };
    case 'truncated': {
      const k = 1 + rng.int(len - 1);
      return { kind, bytes: b.subarray(0, k), halfClose: true, xid: k >= OFP_HEADER_SIZE ? xid : 0 };
    }
    case 'version': {
      if (b[1] === OFPT.HELLO) b[1] = OFPT.BARRIER_REQUEST;
      let v = rng.int(256);
      if (v === 4) v = 5;
      b[0] = v;
      return { kind, bytes: b, halfClose: true, xid };
    }
    case 'hello': {
      // Only 1.0–1.2 on offer: by the header's version alone, or by a bitmap without bit 4.
      const version = 1 + rng.int(3);
      const bitmap = rng.int(2) === 0 ? [] : [{ type: 1 as const, bitmaps: [(rng.u32() & ~(1 << 4)) >>> 0] }];
      return { kind, bytes: encodeMessage({ type: OFPT.HELLO, xid, version: bitmap.length === 0 ? version : 4 + rng.int(2), elements: bitmap }), halfClose: false, xid };
    }
  }
}

export const FRAMING_KINDS: readonly FramingKind[] = ['length-under-8', 'length-short', 'length-long', 'truncated', 'version', 'hello'];
