/**
 * OXM (OpenFlow Extensible Match), §7.2.3: the one descriptor table of the
 * 40 OpenFlow-basic fields that drives decoding, encoding, validation, the
 * text formats and the emulated NIC's matcher, and the ofp_match codec.
 */
import { ipv4ToString, ipv6ToString, macToString, writeIpv4, writeIpv6, writeMac } from './addr.js';
import { ETH_TYPE, IP_PROTO, OFPMT, OFPVID, OFPXMC } from './constants.js';
import { OFPBMC, OFPET, OfpError } from './errors.js';
import { pad8, Reader, Writer } from './wire.js';

/** How a field's bytes are shown: numbers up to 32 bits, bigint for 64, text for addresses. */
export type OxmKind = 'uint' | 'u64' | 'mac' | 'ipv4' | 'ipv6';

/** A prerequisite: the named field must be present with (value & mask) in `values`. */
export interface OxmPrereq {
  readonly field: OxmName;
  readonly values: readonly number[];
  readonly mask?: number;
}

export interface OxmDescriptor {
  readonly name: OxmName;
  readonly id: number;
  readonly width: number;
  /** Meaningful bits of the value (e.g. 13 for VLAN_VID, 20 for MPLS_LABEL). */
  readonly bits: number;
  readonly kind: OxmKind;
  readonly maskable: boolean;
  /** May be the target of a set-field action. */
  readonly settable: boolean;
  readonly prereqs: readonly OxmPrereq[];
}

const ip = { field: 'eth_type', values: [ETH_TYPE.IPV4, ETH_TYPE.IPV6] } as const;
const ipv4 = { field: 'eth_type', values: [ETH_TYPE.IPV4] } as const;
const ipv6 = { field: 'eth_type', values: [ETH_TYPE.IPV6] } as const;
const arp = { field: 'eth_type', values: [ETH_TYPE.ARP] } as const;
const mpls = { field: 'eth_type', values: [ETH_TYPE.MPLS, ETH_TYPE.MPLS_MC] } as const;
const proto = (p: number) => ({ field: 'ip_proto', values: [p] }) as const;
const icmpv6Type = (...t: number[]) => ({ field: 'icmpv6_type', values: t }) as const;

/** OpenFlow 1.3.5 Table 12 (fields) and Table 13 (prerequisites). */
const TABLE = [
  ['in_port', 0, 4, 32, 'uint', false, false, []],
  ['in_phy_port', 1, 4, 32, 'uint', false, false, [{ field: 'in_port', values: [] }]],
  ['metadata', 2, 8, 64, 'u64', true, false, []],
  ['eth_dst', 3, 6, 48, 'mac', true, true, []],
  ['eth_src', 4, 6, 48, 'mac', true, true, []],
  ['eth_type', 5, 2, 16, 'uint', false, true, []],
  ['vlan_vid', 6, 2, 13, 'uint', true, true, []],
  ['vlan_pcp', 7, 1, 3, 'uint', false, true, [{ field: 'vlan_vid', values: [OFPVID.PRESENT], mask: OFPVID.PRESENT }]],
  ['ip_dscp', 8, 1, 6, 'uint', false, true, [ip]],
  ['ip_ecn', 9, 1, 2, 'uint', false, true, [ip]],
  ['ip_proto', 10, 1, 8, 'uint', false, true, [ip]],
  ['ipv4_src', 11, 4, 32, 'ipv4', true, true, [ipv4]],
  ['ipv4_dst', 12, 4, 32, 'ipv4', true, true, [ipv4]],
  ['tcp_src', 13, 2, 16, 'uint', false, true, [proto(IP_PROTO.TCP)]],
  ['tcp_dst', 14, 2, 16, 'uint', false, true, [proto(IP_PROTO.TCP)]],
  ['udp_src', 15, 2, 16, 'uint', false, true, [proto(IP_PROTO.UDP)]],
  ['udp_dst', 16, 2, 16, 'uint', false, true, [proto(IP_PROTO.UDP)]],
  ['sctp_src', 17, 2, 16, 'uint', false, true, [proto(IP_PROTO.SCTP)]],
  ['sctp_dst', 18, 2, 16, 'uint', false, true, [proto(IP_PROTO.SCTP)]],
  ['icmpv4_type', 19, 1, 8, 'uint', false, true, [proto(IP_PROTO.ICMP)]],
  ['icmpv4_code', 20, 1, 8, 'uint', false, true, [proto(IP_PROTO.ICMP)]],
  ['arp_op', 21, 2, 16, 'uint', false, true, [arp]],
  ['arp_spa', 22, 4, 32, 'ipv4', true, true, [arp]],
  ['arp_tpa', 23, 4, 32, 'ipv4', true, true, [arp]],
  ['arp_sha', 24, 6, 48, 'mac', true, true, [arp]],
  ['arp_tha', 25, 6, 48, 'mac', true, true, [arp]],
  ['ipv6_src', 26, 16, 128, 'ipv6', true, true, [ipv6]],
  ['ipv6_dst', 27, 16, 128, 'ipv6', true, true, [ipv6]],
  ['ipv6_flabel', 28, 4, 20, 'uint', true, true, [ipv6]],
  ['icmpv6_type', 29, 1, 8, 'uint', false, true, [proto(IP_PROTO.ICMPV6)]],
  ['icmpv6_code', 30, 1, 8, 'uint', false, true, [proto(IP_PROTO.ICMPV6)]],
  ['ipv6_nd_target', 31, 16, 128, 'ipv6', false, true, [icmpv6Type(135, 136)]],
  ['ipv6_nd_sll', 32, 6, 48, 'mac', false, true, [icmpv6Type(135)]],
  ['ipv6_nd_tll', 33, 6, 48, 'mac', false, true, [icmpv6Type(136)]],
  ['mpls_label', 34, 4, 20, 'uint', false, true, [mpls]],
  ['mpls_tc', 35, 1, 3, 'uint', false, true, [mpls]],
  ['mpls_bos', 36, 1, 1, 'uint', false, true, [mpls]],
  ['pbb_isid', 37, 3, 24, 'uint', true, true, [{ field: 'eth_type', values: [ETH_TYPE.PBB] }]],
  ['tunnel_id', 38, 8, 64, 'u64', true, true, []],
  ['ipv6_exthdr', 39, 2, 9, 'uint', true, false, [ipv6]],
] as const;

export type OxmName = (typeof TABLE)[number][0];

export const OXM_FIELDS: readonly OxmDescriptor[] = TABLE.map(([name, id, width, bits, kind, maskable, settable, prereqs]) => ({
  name,
  id,
  width,
  bits,
  kind,
  maskable,
  settable,
  prereqs: prereqs as readonly OxmPrereq[],
}));

const BY_ID: readonly OxmDescriptor[] = OXM_FIELDS;
const BY_NAME = new Map<string, OxmDescriptor>(OXM_FIELDS.map((d) => [d.name, d]));

export function oxmByName(name: string): OxmDescriptor | undefined {
  return BY_NAME.get(name);
}

export function oxmById(id: number): OxmDescriptor | undefined {
  return BY_ID[id];
}

export type OxmValue = number | bigint | string;

/** An OpenFlow-basic field, decoded. A mask, when present, has the value's kind. */
export interface OxmField {
  field: OxmName;
  value: OxmValue;
  mask?: OxmValue;
}

/**
 * A field of another class (NXM, experimenter) or an unknown basic field:
 * kept as its payload bytes (an experimenter's id included) and re-encoded as is.
 */
export interface OxmOpaque {
  oxmClass: number;
  field: number;
  hasMask: boolean;
  payload: Buffer;
}

export type OxmTlv = OxmField | OxmOpaque;

/** A match is its list of OXM TLVs, in wire order (ofp_match with type OFPMT_OXM). */
export type Match = OxmTlv[];

export function isOpaque(tlv: OxmTlv): tlv is OxmOpaque {
  return typeof tlv.field === 'number';
}

function readValue(kind: Kind, width: number, b: Buffer, p: number): OxmValue {
  switch (kind) {
    case Kind.Uint:
      switch (width) {
        case 1:
          return b[p];
        case 2:
          return (b[p] << 8) | b[p + 1];
        case 3:
          return (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
        default:
          return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
      }
    case Kind.U64:
      return b.readBigUInt64BE(p);
    case Kind.Mac:
      return macToString(b, p);
    case Kind.Ipv4:
      return ipv4ToString(b, p);
    case Kind.Ipv6:
      return ipv6ToString(b, p);
  }
}

function badValue(d: OxmDescriptor, v: unknown): OfpError {
  return new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_VALUE, `${d.name}: ${String(v)} is not a ${d.kind} value of ${d.width} bytes`);
}

const enum Kind {
  Uint,
  U64,
  Mac,
  Ipv4,
  Ipv6,
}
const KIND: Record<OxmKind, Kind> = { uint: Kind.Uint, u64: Kind.U64, mac: Kind.Mac, ipv4: Kind.Ipv4, ipv6: Kind.Ipv6 };

/**
 * What the encoder needs per field, computed once: the TLV header as one
 * 32-bit word (class, field, hasmask, length) for either form, and the
 * largest value of a `uint` field. Encoding looks this up by name, once per
 * TLV per pass; everything after that is array- and integer-only.
 */
interface OxmEncoding {
  readonly d: OxmDescriptor;
  readonly kind: Kind;
  readonly width: number;
  readonly header: number;
  readonly maskedHeader: number;
  readonly max: number;
}

const ENCODING = new Map<string, OxmEncoding>(
  OXM_FIELDS.map((d) => [
    d.name,
    {
      d,
      kind: KIND[d.kind],
      width: d.width,
      header: (OFPXMC.OPENFLOW_BASIC * 0x10000 + (d.id << 9) + d.width) >>> 0,
      maskedHeader: (OFPXMC.OPENFLOW_BASIC * 0x10000 + (((d.id << 1) | 1) << 8) + 2 * d.width) >>> 0,
      max: d.kind === 'uint' ? 2 ** (8 * d.width) - 1 : 0,
    },
  ]),
);

function writeValue(e: OxmEncoding, v: OxmValue, w: Writer): void {
  switch (e.kind) {
    case Kind.Uint: {
      // An integer in [0, max] (max ≤ 2^32 - 1): `>>> 0` is the identity exactly
      // for those among numbers, and cheaper than Number.isInteger plus compares.
      if (typeof v !== 'number' || v >>> 0 !== v || v > e.max) throw badValue(e.d, v);
      const b = w.buf;
      const p = w.pos;
      switch (e.width) {
        case 1:
          b[p] = v;
          break;
        case 2:
          b[p] = v >>> 8;
          b[p + 1] = v;
          break;
        case 3:
          b[p] = v >>> 16;
          b[p + 1] = v >>> 8;
          b[p + 2] = v;
          break;
        default:
          b[p] = v >>> 24;
          b[p + 1] = v >>> 16;
          b[p + 2] = v >>> 8;
          b[p + 3] = v;
      }
      break;
    }
    case Kind.U64:
      if (typeof v !== 'bigint') throw badValue(e.d, v);
      w.u64(v);
      return;
    case Kind.Mac:
      if (typeof v !== 'string') throw badValue(e.d, v);
      writeMac(v, w.buf, w.pos);
      break;
    case Kind.Ipv4:
      if (typeof v !== 'string') throw badValue(e.d, v);
      writeIpv4(v, w.buf, w.pos);
      break;
    case Kind.Ipv6:
      if (typeof v !== 'string') throw badValue(e.d, v);
      writeIpv6(v, w.buf, w.pos);
      break;
  }
  w.pos += e.width;
}

/** Per OXM id of the OpenFlow-basic class, what decoding needs of the descriptor (read per TLV: no string compares). */
const DECODING: readonly { readonly name: OxmName; readonly kind: Kind; readonly width: number }[] = OXM_FIELDS.map((d) => ({ name: d.name, kind: KIND[d.kind], width: d.width }));

/** Decodes one OXM TLV; `r` is positioned at its 4-byte header. */
export function decodeOxm(r: Reader): OxmTlv {
  const start = r.pos;
  const tlv = readOxm(r.buf, start, r.end);
  r.pos = start + 4 + r.buf[start + 3];
  return tlv;
}

/** Throws what `Reader.need` would when fewer than `n` bytes lie in [p, end). */
function needOxm(b: Buffer, p: number, end: number, n: number, what: string): void {
  if (p + n > end) new Reader(b, p, end).need(n, OFPET.BAD_MATCH, OFPBMC.BAD_LEN, what);
}

/** The OXM TLV at `start` within [start, end): decodeOxm without a cursor (the match's hot loop). */
function readOxm(b: Buffer, start: number, end: number): OxmTlv {
  needOxm(b, start, end, 4, 'OXM header');
  const oxmClass = (b[start] << 8) | b[start + 1];
  const fieldAndMask = b[start + 2];
  const len = b[start + 3];
  const field = fieldAndMask >>> 1;
  const hasMask = (fieldAndMask & 1) === 1;
  const p = start + 4;
  needOxm(b, p, end, len, 'OXM payload');
  const d = oxmClass === OFPXMC.OPENFLOW_BASIC ? DECODING[field] : undefined;
  if (d === undefined) {
    if (oxmClass === OFPXMC.EXPERIMENTER && len < 4) {
      throw new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_LEN, 'experimenter OXM shorter than its experimenter id', start);
    }
    return { oxmClass, field, hasMask, payload: Buffer.from(b.subarray(p, p + len)) };
  }
  const width = d.width;
  if (len !== (hasMask ? 2 * width : width)) {
    throw new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_LEN, `${d.name}: length ${len}, expected ${hasMask ? 2 * width : width}`, start);
  }
  if (!hasMask) return { field: d.name, value: readValue(d.kind, width, b, p) };
  return { field: d.name, value: readValue(d.kind, width, b, p), mask: readValue(d.kind, width, b, p + width) };
}

function unknownField(tlv: OxmField): OfpError {
  return new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_FIELD, `unknown OXM field ${String(tlv.field)}`);
}

export function oxmLength(tlv: OxmTlv): number {
  if (isOpaque(tlv)) return 4 + tlv.payload.length;
  const e = ENCODING.get(tlv.field);
  if (e === undefined) throw unknownField(tlv);
  return 4 + (tlv.mask === undefined ? e.width : 2 * e.width);
}

/** Encodes one TLV and returns its length (header included), so callers need not compute it again. */
export function encodeOxm(tlv: OxmTlv, w: Writer): number {
  if (isOpaque(tlv)) {
    w.u16(tlv.oxmClass);
    w.u8((tlv.field << 1) | (tlv.hasMask ? 1 : 0));
    w.u8(tlv.payload.length);
    w.bytes(tlv.payload);
    return 4 + tlv.payload.length;
  }
  const e = ENCODING.get(tlv.field);
  if (e === undefined) throw unknownField(tlv);
  if (tlv.mask === undefined) {
    w.u32(e.header);
    writeValue(e, tlv.value, w);
    return 4 + e.width;
  }
  w.u32(e.maskedHeader);
  writeValue(e, tlv.value, w);
  writeValue(e, tlv.mask, w);
  return 4 + 2 * e.width;
}

/** ofp_match (§7.2.2): type, length, OXM TLVs, padded to 8 bytes. */
export function decodeMatch(r: Reader): Match {
  const start = r.pos;
  r.need(4, OFPET.BAD_MATCH, OFPBMC.BAD_LEN, 'match header');
  const b = r.buf;
  const type = (b[start] << 8) | b[start + 1];
  const length = (b[start + 2] << 8) | b[start + 3];
  r.pos = start + 4;
  if (type !== OFPMT.OXM) throw new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_TYPE, `match type ${type} is not OFPMT_OXM`, start);
  if (length < 4) throw new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_LEN, `match length ${length} < 4`, start);
  r.need(length - 4, OFPET.BAD_MATCH, OFPBMC.BAD_LEN, 'match');
  // The TLVs are read by offset within [start + 4, end): no cursor per match.
  const end = start + length;
  const fields: Match = [];
  for (let p = start + 4; p < end; p += 4 + b[p + 3]) fields.push(readOxm(b, p, end));
  r.pos = end;
  r.need(pad8(length), OFPET.BAD_MATCH, OFPBMC.BAD_LEN, 'match padding');
  r.pos += pad8(length);
  return fields;
}

/** Value width of each OpenFlow-basic field by id; 0: one the decoder does not know (it would keep it opaque). */
const BASIC_WIDTH = new Uint8Array(128);
for (const d of OXM_FIELDS) BASIC_WIDTH[d.id] = d.width;

/**
 * Where the bytes after the ofp_match at `at` (padding included) begin, if
 * decodeMatch takes it within `end`; -1 when it does not, and also for TLVs
 * other than known OpenFlow-basic fields (decode to find out). For code that
 * acts on wire bytes without decoding them; checked against decodeMatch
 * (flow-mod-wire.property.spec.ts).
 */
export function wellFormedMatchAt(b: Uint8Array, at: number, end: number): number {
  if (at + 4 > end) return -1;
  const length = (b[at + 2] << 8) | b[at + 3];
  if (((b[at] << 8) | b[at + 1]) !== OFPMT.OXM || length < 4) return -1;
  const mend = at + length;
  const next = at + ((length + 7) & ~7);
  if (next > end) return -1;
  for (let p = at + 4; p < mend; ) {
    if (p + 4 > mend || ((b[p] << 8) | b[p + 1]) !== OFPXMC.OPENFLOW_BASIC) return -1;
    const width = BASIC_WIDTH[b[p + 2] >>> 1];
    const len = b[p + 3];
    if (width === 0 || len !== ((b[p + 2] & 1) === 1 ? 2 * width : width)) return -1;
    p += 4 + len;
    if (p > mend) return -1;
  }
  return next;
}

export function matchLength(match: Match): number {
  let len = 4;
  for (let i = 0; i < match.length; i++) len += oxmLength(match[i]);
  return len + pad8(len);
}

export function encodeMatch(match: Match, w: Writer): void {
  const start = w.pos;
  w.pos += 4; // type and length, written once the length is known
  let len = 4;
  for (let i = 0; i < match.length; i++) len += encodeOxm(match[i], w);
  const b = w.buf;
  b[start] = OFPMT.OXM >>> 8;
  b[start + 1] = OFPMT.OXM;
  b[start + 2] = len >>> 8;
  b[start + 3] = len;
  w.zeros(pad8(len));
}

function numericValue(v: OxmValue | undefined): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** §7.2.3.5: a masked value must have no 1-bits where its mask has 0-bits. */
function hasBitsOutsideMask(d: OxmDescriptor, value: OxmValue, mask: OxmValue): boolean {
  const e = ENCODING.get(d.name)!;
  const v = new Writer(d.width);
  const m = new Writer(d.width);
  writeValue(e, value, v);
  writeValue(e, mask, m);
  for (let i = 0; i < d.width; i++) if ((v.buf[i] & ~m.buf[i]) !== 0) return true;
  return false;
}

/**
 * Checks a match as a switch must before installing it (§7.2.3.6-8):
 * no duplicate fields, masks only on maskable fields, values and masks
 * within the field's bits, no value bit set outside its mask (BAD_WILDCARDS), and every
 * prerequisite present. Opaque fields pass through: the switch decides.
 */
export interface MatchValidation {
  /**
   * A value bit set where its mask is 0: 'reject' answers OFPBMC_BAD_WILDCARDS
   * (as Open vSwitch does); 'ignore' leaves it to the switch to mask the value
   * (as the switches Ryu's conformance suite was written against do).
   */
  bitsOutsideMask: 'reject' | 'ignore';
}

/** validateMatch's record of the fields seen, by OXM id: valid where SEEN_EPOCH[id] is the call's epoch (no per-call allocation). */
const SEEN_EPOCH = new Float64Array(OXM_FIELDS.length);
const SEEN_TLV: (OxmField | undefined)[] = new Array<OxmField | undefined>(OXM_FIELDS.length).fill(undefined);
const SEEN_ORDER = new Int32Array(OXM_FIELDS.length);
let epoch = 0;

export function validateMatch(match: Match, options: MatchValidation = { bitsOutsideMask: 'reject' }): void {
  const e = ++epoch;
  let nSeen = 0;
  for (let i = 0; i < match.length; i++) {
    const tlv = match[i];
    if (isOpaque(tlv)) continue;
    const d = BY_NAME.get(tlv.field)!;
    if (SEEN_EPOCH[d.id] === e) throw new OfpError(OFPET.BAD_MATCH, OFPBMC.DUP_FIELD, `${d.name} appears twice`);
    SEEN_EPOCH[d.id] = e;
    SEEN_TLV[d.id] = tlv;
    SEEN_ORDER[nSeen++] = d.id;
    if (tlv.mask !== undefined && !d.maskable) throw new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_MASK, `${d.name} is not maskable`);
    if (options.bitsOutsideMask === 'reject' && tlv.mask !== undefined && hasBitsOutsideMask(d, tlv.value, tlv.mask)) {
      throw new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_WILDCARDS, `${d.name} value has bits set outside its mask`);
    }
    if (d.kind === 'uint' && d.bits < 8 * d.width) {
      const limit = 2 ** d.bits;
      const v = numericValue(tlv.value)!;
      if (v >= limit) throw new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_VALUE, `${d.name}=${v} exceeds ${d.bits} bits`);
      const m = numericValue(tlv.mask);
      if (m !== undefined && m >= limit) throw new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_MASK, `${d.name} mask exceeds ${d.bits} bits`);
    }
  }
  for (let i = 0; i < nSeen; i++) {
    const d = BY_ID[SEEN_ORDER[i]];
    const prereqs = d.prereqs;
    for (let j = 0; j < prereqs.length; j++) {
      const pre = prereqs[j];
      const depId = BY_NAME.get(pre.field)!.id;
      if (SEEN_EPOCH[depId] !== e) {
        throw new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_PREREQ, `${d.name} needs ${pre.field}`);
      }
      if (pre.values.length === 0) continue;
      const dep = SEEN_TLV[depId]!;
      const v = numericValue(dep.value)!;
      const depMask = numericValue(dep.mask);
      // A masked prerequisite counts only if its mask covers every bit the prerequisite tests.
      const covered = depMask === undefined || (pre.mask !== undefined && (depMask & pre.mask) === pre.mask);
      if (!covered || !pre.values.includes(pre.mask === undefined ? v : v & pre.mask)) {
        throw new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_PREREQ, `${d.name} needs ${pre.field} in [${pre.values.join(', ')}]`);
      }
    }
  }
}
