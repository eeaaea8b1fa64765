/**
 * The actions that change a packet's headers (OpenFlow 1.3.5 §5.12, §7.2.5):
 * set-field on every settable OXM field, push/pop of VLAN, MPLS and PBB
 * tags, and the TTL actions. Output, group and set-queue belong to the
 * pipeline.
 *
 * Checksums are kept right by incremental update (RFC 1624) of the IPv4
 * header, TCP, UDP, ICMPv4 and ICMPv6 checksums, and by recomputing SCTP's
 * CRC32c. Incremental rather than recomputed because it is O(1) per change,
 * stays right for a first fragment (whose transport checksum covers bytes
 * that are not in the frame), and is what Ryu's conformance data shows for a
 * changed ip_proto: the checksum of the transport header that is there is
 * updated for the new pseudo-header, and a zero UDP checksum over IPv4
 * ("no checksum", RFC 768) stays zero.
 *
 * The flow key follows every change: set-field writes the new value into its
 * key words, and an action that changes the header structure (push, pop,
 * eth_type, ip_proto, icmpv6 type/code, mpls_bos) re-parses the frame.
 */
import {
  Action,
  ETH_TYPE,
  IP_PROTO,
  isOpaque,
  OFPAT,
  OFPBAC,
  OFPET,
  OfpError,
  OxmDescriptor,
  oxmByName,
  OxmTlv,
  OxmValue,
  writeIpv4,
  writeIpv6,
  writeMac,
} from '@nicvisor/openflow';
import { checksumAdjust, onesSum, setSctpChecksum } from './checksum.js';
import { W } from './key.js';
import { L3, ParsedPacket, reparse } from './packet.js';

export interface HeaderActionResult {
  /** The packet changed. False for a non-header action, or when the header the action needs is absent. */
  readonly applied: boolean;
  /**
   * A TTL decrement found a TTL of 0 or 1: the packet is left unchanged and
   * the pipeline drops it, or sends it to the controller with OFPR_INVALID_TTL
   * when OFPC_INVALID_TTL_TO_CONTROLLER is set.
   */
  readonly invalidTtl: boolean;
}

/** Shared, frozen results: no allocation per action. */
export const APPLIED: HeaderActionResult = Object.freeze({ applied: true, invalidTtl: false });
export const NOT_APPLIED: HeaderActionResult = Object.freeze({ applied: false, invalidTtl: false });
export const INVALID_TTL: HeaderActionResult = Object.freeze({ applied: false, invalidTtl: true });

/**
 * Applies one action to `pkt`, editing `pkt.frame` in place or replacing it,
 * and keeps `pkt.key` and the offsets in step. Never throws on packet
 * contents; see validateHeaderAction for the checks due at flow-mod time.
 */
export function applyHeaderAction(pkt: ParsedPacket, action: Action): HeaderActionResult {
  switch (action.type) {
    case OFPAT.SET_FIELD:
      return setField(pkt, action.field);
    case OFPAT.PUSH_VLAN:
      return pushVlan(pkt, action.ethertype);
    case OFPAT.POP_VLAN:
      return popVlan(pkt);
    case OFPAT.PUSH_MPLS:
      return pushMpls(pkt, action.ethertype);
    case OFPAT.POP_MPLS:
      return popMpls(pkt, action.ethertype);
    case OFPAT.PUSH_PBB:
      return pushPbb(pkt, action.ethertype);
    case OFPAT.POP_PBB:
      return popPbb(pkt);
    case OFPAT.SET_MPLS_TTL:
      if (pkt.mplsOff < 0) return NOT_APPLIED;
      pkt.frame[pkt.mplsOff + 3] = action.mplsTtl;
      return APPLIED;
    case OFPAT.DEC_MPLS_TTL: {
      if (pkt.mplsOff < 0) return NOT_APPLIED;
      const ttl = pkt.frame[pkt.mplsOff + 3];
      if (ttl <= 1) return INVALID_TTL;
      pkt.frame[pkt.mplsOff + 3] = ttl - 1;
      return APPLIED;
    }
    case OFPAT.SET_NW_TTL:
      if (pkt.l3Type !== L3.IPV4 && pkt.l3Type !== L3.IPV6) return NOT_APPLIED;
      setIpTtl(pkt.frame, pkt.l3Off, action.nwTtl);
      return APPLIED;
    case OFPAT.DEC_NW_TTL: {
      if (pkt.l3Type !== L3.IPV4 && pkt.l3Type !== L3.IPV6) return NOT_APPLIED;
      const ttl = ipTtl(pkt.frame, pkt.l3Off);
      if (ttl <= 1) return INVALID_TTL;
      setIpTtl(pkt.frame, pkt.l3Off, ttl - 1);
      return APPLIED;
    }
    case OFPAT.COPY_TTL_OUT:
      return copyTtlOut(pkt);
    case OFPAT.COPY_TTL_IN:
      return copyTtlIn(pkt);
    default:
      return NOT_APPLIED;
  }
}

/** Whether `a` is one of the actions applyHeaderAction handles. */
export function isHeaderAction(a: Action): boolean {
  switch (a.type) {
    case OFPAT.OUTPUT:
    case OFPAT.SET_QUEUE:
    case OFPAT.GROUP:
    case OFPAT.EXPERIMENTER:
      return false;
    default:
      return true;
  }
}

/**
 * Position of an action in the action set's execution order (§5.10): copy
 * TTL in, pop, push-MPLS, push-PBB, push-VLAN, copy TTL out, decrement TTL,
 * set (set-field and the TTL setters), qos, group, output.
 */
export function actionSetRank(a: Action): number {
  switch (a.type) {
    case OFPAT.COPY_TTL_IN:
      return 0;
    case OFPAT.POP_VLAN:
    case OFPAT.POP_MPLS:
    case OFPAT.POP_PBB:
      return 1;
    case OFPAT.PUSH_MPLS:
      return 2;
    case OFPAT.PUSH_PBB:
      return 3;
    case OFPAT.PUSH_VLAN:
      return 4;
    case OFPAT.COPY_TTL_OUT:
      return 5;
    case OFPAT.DEC_MPLS_TTL:
    case OFPAT.DEC_NW_TTL:
      return 6;
    case OFPAT.SET_FIELD:
    case OFPAT.SET_MPLS_TTL:
    case OFPAT.SET_NW_TTL:
    case OFPAT.EXPERIMENTER:
      return 7;
    case OFPAT.SET_QUEUE:
      return 8;
    case OFPAT.GROUP:
      return 9;
    case OFPAT.OUTPUT:
      return 10;
  }
}

/**
 * The checks a switch makes on a header action when a flow-mod, group-mod
 * or packet-out brings it: tag ethertypes and set-field fields and values.
 * Throws OfpError(OFPET_BAD_ACTION, ...).
 */
export function validateHeaderAction(a: Action): void {
  const bad = (code: number, why: string) => new OfpError(OFPET.BAD_ACTION, code, why);
  switch (a.type) {
    case OFPAT.PUSH_VLAN:
      if (a.ethertype !== ETH_TYPE.VLAN && a.ethertype !== ETH_TYPE.QINQ) throw bad(OFPBAC.BAD_ARGUMENT, `push_vlan ethertype 0x${a.ethertype.toString(16)}`);
      return;
    case OFPAT.PUSH_MPLS:
      if (a.ethertype !== ETH_TYPE.MPLS && a.ethertype !== ETH_TYPE.MPLS_MC) throw bad(OFPBAC.BAD_ARGUMENT, `push_mpls ethertype 0x${a.ethertype.toString(16)}`);
      return;
    case OFPAT.PUSH_PBB:
      if (a.ethertype !== ETH_TYPE.PBB) throw bad(OFPBAC.BAD_ARGUMENT, `push_pbb ethertype 0x${a.ethertype.toString(16)}`);
      return;
    case OFPAT.SET_FIELD: {
      const f = a.field;
      const d = isOpaque(f) ? undefined : oxmByName(f.field);
      if (isOpaque(f) || d === undefined || !d.settable) throw bad(OFPBAC.BAD_SET_TYPE, `field ${String(f.field)} is not settable`);
      if (planOf(f) === null) throw bad(OFPBAC.BAD_SET_ARGUMENT, `${d.name}: ${String(f.value)} is not a valid value`);
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// set-field

/** A set-field's value (and mask) as wire bytes, computed once per action object. */
interface SetFieldPlan {
  readonly id: number;
  readonly width: number;
  readonly value: Uint8Array;
  readonly mask: Uint8Array | null;
  /** The value (and mask) as a number, for fields of up to 32 bits. */
  readonly num: number;
  readonly maskNum: number;
}

/**
 * Set-field values arrive as text (addresses) or bigint; converting them per
 * packet would dominate the action's cost, so each OxmField object gets its
 * plan once. A WeakMap keyed by the action's own object needs no
 * invalidation: a modified flow brings new action objects.
 */
const PLANS = new WeakMap<object, SetFieldPlan | null>();

function encodeValue(d: OxmDescriptor, v: OxmValue, out: Uint8Array): boolean {
  try {
    switch (d.kind) {
      case 'uint': {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= 2 ** d.bits) return false;
        for (let i = d.width - 1, x = v; i >= 0; i--, x = Math.floor(x / 256)) out[i] = x & 0xff;
        return true;
      }
      case 'u64': {
        if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) return false;
        for (let i = 7, x = v; i >= 0; i--, x >>= 8n) out[i] = Number(x & 0xffn);
        return true;
      }
      case 'mac':
        if (typeof v !== 'string') return false;
        writeMac(v, out, 0);
        return true;
      case 'ipv4':
        if (typeof v !== 'string') return false;
        writeIpv4(v, out, 0);
        return true;
      case 'ipv6':
        if (typeof v !== 'string') return false;
        writeIpv6(v, out, 0);
        return true;
    }
  } catch {
    return false;
  }
}

function planOf(tlv: OxmTlv): SetFieldPlan | null {
  let plan = PLANS.get(tlv);
  if (plan !== undefined) return plan;
  plan = null;
  const d = isOpaque(tlv) ? undefined : oxmByName(tlv.field);
  if (d !== undefined && d.settable && !isOpaque(tlv)) {
    const value = new Uint8Array(d.width);
    let mask: Uint8Array | null = null;
    let ok = encodeValue(d, tlv.value, value);
    if (ok && tlv.mask !== undefined) {
      mask = new Uint8Array(d.width);
      ok = encodeValue(d, tlv.mask, mask);
    }
    if (ok) {
      const num = typeof tlv.value === 'number' ? tlv.value : 0;
      const maskNum = typeof tlv.mask === 'number' ? tlv.mask : -1;
      plan = { id: d.id, width: d.width, value, mask, num, maskNum };
    }
  }
  PLANS.set(tlv, plan);
  return plan;
}

/** Which checksums cover the bytes being changed. */
const CS_IP = 1; // the IPv4 header checksum
const CS_L4 = 2; // the transport checksum: the bytes are in the transport segment
const CS_PSEUDO = 4; // the transport checksum: the bytes are in its pseudo-header

/** OXM field ids (OpenFlow 1.3.5 Table 12), for a switch on integers. */
const F = {
  eth_dst: 3,
  eth_src: 4,
  eth_type: 5,
  vlan_vid: 6,
  vlan_pcp: 7,
  ip_dscp: 8,
  ip_ecn: 9,
  ip_proto: 10,
  ipv4_src: 11,
  ipv4_dst: 12,
  tcp_src: 13,
  tcp_dst: 14,
  udp_src: 15,
  udp_dst: 16,
  sctp_src: 17,
  sctp_dst: 18,
  icmpv4_type: 19,
  icmpv4_code: 20,
  arp_op: 21,
  arp_spa: 22,
  arp_tpa: 23,
  arp_sha: 24,
  arp_tha: 25,
  ipv6_src: 26,
  ipv6_dst: 27,
  ipv6_flabel: 28,
  icmpv6_type: 29,
  icmpv6_code: 30,
  ipv6_nd_target: 31,
  ipv6_nd_sll: 32,
  ipv6_nd_tll: 33,
  mpls_label: 34,
  mpls_tc: 35,
  mpls_bos: 36,
  pbb_isid: 37,
  tunnel_id: 38,
} as const;

function setField(pkt: ParsedPacket, tlv: OxmTlv): HeaderActionResult {
  const plan = planOf(tlv);
  if (plan === null) return NOT_APPLIED;
  const l3 = pkt.l3Type;
  const l3Off = pkt.l3Off;
  const l4 = pkt.l4Off >= 0 ? pkt.l4Proto : -1;
  let ok: boolean;
  switch (plan.id) {
    case F.eth_dst:
      ok = setBytes(pkt, 0, plan, 0, W.eth_dst);
      break;
    case F.eth_src:
      ok = setBytes(pkt, 6, plan, 0, W.eth_src);
      break;
    case F.eth_type:
      if (!setBytes(pkt, pkt.typeOff, plan, 0, W.eth_type)) return NOT_APPLIED;
      reparse(pkt);
      return APPLIED;
    case F.vlan_vid:
      ok = pkt.vlanOff >= 0 && setBits(pkt, pkt.vlanOff + 2, 2, 0, 12, plan, 0, W.vlan_vid);
      if (ok) pkt.key[W.vlan_vid] |= 0x1000;
      break;
    case F.vlan_pcp:
      ok = pkt.vlanOff >= 0 && setBits(pkt, pkt.vlanOff + 2, 2, 13, 3, plan, 0, W.vlan_pcp);
      break;
    case F.ip_dscp:
      // IPv4: the TOS byte's top 6 bits. IPv6: the traffic class straddles bytes 0-1.
      if (l3 === L3.IPV4) ok = setBits(pkt, l3Off + 1, 1, 2, 6, plan, CS_IP, W.ip_dscp);
      else ok = l3 === L3.IPV6 && setBits(pkt, l3Off, 2, 6, 6, plan, 0, W.ip_dscp);
      break;
    case F.ip_ecn:
      if (l3 === L3.IPV4) ok = setBits(pkt, l3Off + 1, 1, 0, 2, plan, CS_IP, W.ip_ecn);
      else ok = l3 === L3.IPV6 && setBits(pkt, l3Off, 2, 4, 2, plan, 0, W.ip_ecn);
      break;
    case F.ip_proto:
      return setIpProto(pkt, plan);
    case F.ipv4_src:
      ok = l3 === L3.IPV4 && setBytes(pkt, l3Off + 12, plan, CS_IP | CS_PSEUDO, W.ipv4_src);
      break;
    case F.ipv4_dst:
      ok = l3 === L3.IPV4 && setBytes(pkt, l3Off + 16, plan, CS_IP | CS_PSEUDO, W.ipv4_dst);
      break;
    case F.tcp_src:
      ok = l4 === IP_PROTO.TCP && setBytes(pkt, pkt.l4Off, plan, CS_L4, W.tcp_src);
      break;
    case F.tcp_dst:
      ok = l4 === IP_PROTO.TCP && setBytes(pkt, pkt.l4Off + 2, plan, CS_L4, W.tcp_dst);
      break;
    case F.udp_src:
      ok = l4 === IP_PROTO.UDP && setBytes(pkt, pkt.l4Off, plan, CS_L4, W.udp_src);
      break;
    case F.udp_dst:
      ok = l4 === IP_PROTO.UDP && setBytes(pkt, pkt.l4Off + 2, plan, CS_L4, W.udp_dst);
      break;
    case F.sctp_src:
      ok = l4 === IP_PROTO.SCTP && setBytes(pkt, pkt.l4Off, plan, CS_L4, W.sctp_src);
      break;
    case F.sctp_dst:
      ok = l4 === IP_PROTO.SCTP && setBytes(pkt, pkt.l4Off + 2, plan, CS_L4, W.sctp_dst);
      break;
    case F.icmpv4_type:
      ok = l4 === IP_PROTO.ICMP && setBytes(pkt, pkt.l4Off, plan, CS_L4, W.icmpv4_type);
      break;
    case F.icmpv4_code:
      ok = l4 === IP_PROTO.ICMP && setBytes(pkt, pkt.l4Off + 1, plan, CS_L4, W.icmpv4_code);
      break;
    case F.arp_op:
      ok = l3 === L3.ARP && setBytes(pkt, l3Off + 6, plan, 0, W.arp_op);
      break;
    case F.arp_sha:
      ok = l3 === L3.ARP && setBytes(pkt, l3Off + 8, plan, 0, W.arp_sha);
      break;
    case F.arp_spa:
      ok = l3 === L3.ARP && setBytes(pkt, l3Off + 14, plan, 0, W.arp_spa);
      break;
    case F.arp_tha:
      ok = l3 === L3.ARP && setBytes(pkt, l3Off + 18, plan, 0, W.arp_tha);
      break;
    case F.arp_tpa:
      ok = l3 === L3.ARP && setBytes(pkt, l3Off + 24, plan, 0, W.arp_tpa);
      break;
    case F.ipv6_src:
      ok = l3 === L3.IPV6 && setBytes(pkt, l3Off + 8, plan, CS_PSEUDO, W.ipv6_src);
      break;
    case F.ipv6_dst:
      // Behind a routing header with segments left, the pseudo-header holds the final destination instead.
      ok = l3 === L3.IPV6 && setBytes(pkt, l3Off + 24, plan, pkt.routed ? 0 : CS_PSEUDO, W.ipv6_dst);
      break;
    case F.ipv6_flabel:
      ok = l3 === L3.IPV6 && setBits(pkt, l3Off + 1, 3, 0, 20, plan, 0, W.ipv6_flabel);
      break;
    case F.icmpv6_type:
    case F.icmpv6_code:
      // Either one decides whether the message is ND, so the key is rebuilt.
      if (l4 !== IP_PROTO.ICMPV6) return NOT_APPLIED;
      if (plan.id === F.icmpv6_type) setBytes(pkt, pkt.l4Off, plan, CS_L4, W.icmpv6_type);
      else setBytes(pkt, pkt.l4Off + 1, plan, CS_L4, W.icmpv6_code);
      reparse(pkt);
      return APPLIED;
    case F.ipv6_nd_target:
      ok = pkt.ndTargetOff >= 0 && setBytes(pkt, pkt.ndTargetOff, plan, CS_L4, W.ipv6_nd_target);
      break;
    case F.ipv6_nd_sll:
      ok = pkt.ndSllOff >= 0 && setBytes(pkt, pkt.ndSllOff, plan, CS_L4, W.ipv6_nd_sll);
      break;
    case F.ipv6_nd_tll:
      ok = pkt.ndTllOff >= 0 && setBytes(pkt, pkt.ndTllOff, plan, CS_L4, W.ipv6_nd_tll);
      break;
    case F.mpls_label:
      ok = pkt.mplsOff >= 0 && setBits(pkt, pkt.mplsOff, 3, 4, 20, plan, 0, W.mpls_label);
      break;
    case F.mpls_tc:
      ok = pkt.mplsOff >= 0 && setBits(pkt, pkt.mplsOff + 2, 1, 1, 3, plan, 0, W.mpls_tc);
      break;
    case F.mpls_bos:
      // Moves the bottom of the stack, hence what the TTL actions see behind it.
      if (pkt.mplsOff < 0) return NOT_APPLIED;
      setBits(pkt, pkt.mplsOff + 2, 1, 0, 1, plan, 0, W.mpls_bos);
      reparse(pkt);
      return APPLIED;
    case F.pbb_isid:
      ok = pkt.pbbOff >= 0 && setBytes(pkt, pkt.pbbOff + 1, plan, 0, W.pbb_isid);
      break;
    case F.tunnel_id: {
      // Packet metadata, not bytes: only the key holds it.
      const k = pkt.key;
      const v = plan.value;
      const m = plan.mask;
      for (let i = 0; i < 8; i++) {
        const w = W.tunnel_id + (i >> 2);
        const shift = 24 - 8 * (i & 3);
        const old = (k[w] >>> shift) & 0xff;
        const byte = m === null ? v[i] : (old & ~m[i]) | (v[i] & m[i]);
        k[w] = (k[w] & ~(0xff << shift)) | (byte << shift);
      }
      return APPLIED;
    }
    default:
      return NOT_APPLIED;
  }
  return ok ? APPLIED : NOT_APPLIED;
}

/**
 * ip_proto: the transport checksum is updated for the pseudo-header's new
 * protocol where the transport header as parsed keeps it, then the packet is
 * re-parsed under its new protocol.
 */
function setIpProto(pkt: ParsedPacket, plan: SetFieldPlan): HeaderActionResult {
  const at = pkt.protoOff;
  if (at < 0 || at >= pkt.frame.length) return NOT_APPLIED;
  if (pkt.l3Type === L3.IPV4) {
    // Protocol is the low byte of the (ttl, protocol) word, as of (0, protocol) in the pseudo-header.
    setBytes(pkt, at, plan, CS_IP | CS_PSEUDO, W.ip_proto);
  } else {
    // In IPv6 the next-header byte is a high byte, but in the pseudo-header a low one.
    const b = pkt.frame;
    const old = b[at];
    b[at] = plan.mask === null ? plan.value[0] : (old & ~plan.mask[0]) | (plan.value[0] & plan.mask[0]);
    adjustL4(pkt, old, b[at], true);
  }
  reparse(pkt);
  return APPLIED;
}

/** The ones'-complement sum of the 16-bit-aligned span (relative to the IP header) around [off, off+len). */
function spanSum(pkt: ParsedPacket, off: number, len: number): number {
  const a = off - ((off - pkt.l3Off) & 1);
  const end = off + len;
  const e = end + ((end - pkt.l3Off) & 1);
  // Past the frame's end a byte reads as 0 both before and after: no effect.
  return onesSum(pkt.frame, a, Math.min(e, pkt.frame.length));
}

/** Writes a byte-aligned field of plan.width bytes at `off`, updates checksums `cs` and key words from `word`. */
function setBytes(pkt: ParsedPacket, off: number, plan: SetFieldPlan, cs: number, word: number): boolean {
  const b = pkt.frame;
  const w = plan.width;
  if (off < 0 || off + w > b.length) return false;
  const before = cs === 0 ? 0 : spanSum(pkt, off, w);
  const v = plan.value;
  const m = plan.mask;
  if (m === null) for (let i = 0; i < w; i++) b[off + i] = v[i];
  else for (let i = 0; i < w; i++) b[off + i] = (b[off + i] & ~m[i]) | (v[i] & m[i]);
  if (cs !== 0) fixChecksums(pkt, before, spanSum(pkt, off, w), cs);
  loadWords(pkt.key, word, b, off, w);
  return true;
}

/**
 * Writes a field of `bits` bits at `shift` inside the big-endian container of
 * `bytes` bytes at `off` (a VLAN TCI, an MPLS entry, the IPv6 first word...).
 */
function setBits(pkt: ParsedPacket, off: number, bytes: number, shift: number, bits: number, plan: SetFieldPlan, cs: number, word: number): boolean {
  const b = pkt.frame;
  if (off < 0 || off + bytes > b.length) return false;
  const before = cs === 0 ? 0 : spanSum(pkt, off, bytes);
  let c = 0;
  for (let i = 0; i < bytes; i++) c = (c << 8) | b[off + i];
  const fieldMask = (1 << bits) - 1;
  const old = (c >>> shift) & fieldMask;
  const v = plan.maskNum < 0 ? plan.num & fieldMask : (old & ~plan.maskNum) | (plan.num & plan.maskNum & fieldMask);
  c = (c & ~(fieldMask << shift)) | (v << shift);
  for (let i = bytes - 1; i >= 0; i--, c >>>= 8) b[off + i] = c & 0xff;
  if (cs !== 0) fixChecksums(pkt, before, spanSum(pkt, off, bytes), cs);
  pkt.key[word] = v;
  return true;
}

function fixChecksums(pkt: ParsedPacket, before: number, after: number, cs: number): void {
  if (cs & CS_IP && pkt.l3Type === L3.IPV4) {
    const b = pkt.frame;
    const at = pkt.l3Off + 10;
    const v = checksumAdjust((b[at] << 8) | b[at + 1], before, after);
    b[at] = v >>> 8;
    b[at + 1] = v & 0xff;
  }
  if (cs & (CS_L4 | CS_PSEUDO)) adjustL4(pkt, before, after, (cs & CS_PSEUDO) !== 0);
}

/** Updates the transport checksum for a change of ones'-complement sum `before` → `after`. */
function adjustL4(pkt: ParsedPacket, before: number, after: number, pseudo: boolean): void {
  const q = pkt.l4Off;
  if (q < 0) return;
  const b = pkt.frame;
  let at: number;
  switch (pkt.l4Proto) {
    case IP_PROTO.TCP:
      at = q + 16;
      break;
    case IP_PROTO.UDP:
      at = q + 6;
      // Over IPv4, zero means "no checksum" (RFC 768): it stays zero.
      if (pkt.l3Type === L3.IPV4 && b[at] === 0 && b[at + 1] === 0) return;
      break;
    case IP_PROTO.ICMPV6:
      at = q + 2;
      break;
    case IP_PROTO.ICMP:
      if (pseudo) return; // ICMPv4 has no pseudo-header
      at = q + 2;
      break;
    case IP_PROTO.SCTP:
      // CRC32c covers the SCTP packet only, and a fragment's is not ours to redo.
      if (!pseudo && !pkt.fragment && pkt.l3End <= b.length) setSctpChecksum(b, q, pkt.l3End);
      return;
    default:
      return;
  }
  let v = checksumAdjust((b[at] << 8) | b[at + 1], before, after);
  // A computed UDP checksum of 0 is sent as 0xffff (RFC 768, RFC 8200 §8.1).
  if (v === 0 && pkt.l4Proto === IP_PROTO.UDP) v = 0xffff;
  b[at] = v >>> 8;
  b[at + 1] = v & 0xff;
}

/** Key words of a byte-aligned field of `width` bytes: up to 4 in one word, 6 and 8 in two (high first), 16 in four. */
function loadWords(k: Uint32Array, word: number, b: Uint8Array, off: number, width: number): void {
  switch (width) {
    case 1:
      k[word] = b[off];
      return;
    case 2:
      k[word] = (b[off] << 8) | b[off + 1];
      return;
    case 3:
      k[word] = (b[off] << 16) | (b[off + 1] << 8) | b[off + 2];
      return;
    case 6:
      k[word] = (b[off] << 8) | b[off + 1];
      off += 2;
      break;
    default:
      // 4, 8 and 16 bytes: whole words.
      for (let i = 0; i < width - 4; i += 4, word++) k[word] = (b[off + i] << 24) | (b[off + i + 1] << 16) | (b[off + i + 2] << 8) | b[off + i + 3];
      off += width - 4;
  }
  k[word + (width === 6 ? 1 : 0)] = (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3];
}

// ---------------------------------------------------------------------------
// TTLs

/** TTL / hop limit of the IP header at `ip` (version from its first nibble). */
function ipTtl(b: Buffer, ip: number): number {
  return b[ip] >>> 4 === 4 ? b[ip + 8] : b[ip + 7];
}

/** Sets the TTL / hop limit of the IP header at `ip`, keeping an IPv4 header checksum right. */
function setIpTtl(b: Buffer, ip: number, ttl: number): void {
  if (b[ip] >>> 4 !== 4) {
    b[ip + 7] = ttl;
    return;
  }
  const before = (b[ip + 8] << 8) | b[ip + 9];
  b[ip + 8] = ttl;
  const after = (ttl << 8) | b[ip + 9];
  const v = checksumAdjust((b[ip + 10] << 8) | b[ip + 11], before, after);
  b[ip + 10] = v >>> 8;
  b[ip + 11] = v & 0xff;
}

/** The IP header carried by the bottom of the MPLS stack, guessed from its version nibble as switches do; -1 if none. */
function mplsPayloadIp(pkt: ParsedPacket): number {
  const p = pkt.mplsEnd;
  const b = pkt.frame;
  if (p < 0 || p >= b.length) return -1;
  const v = b[p] >>> 4;
  if (v === 4 && p + 20 <= b.length) return p;
  if (v === 6 && p + 40 <= b.length) return p;
  return -1;
}

/** IP-in-IP: the inner header, when the packet is IP with an IPv4/IPv6 payload. */
function innerIp(pkt: ParsedPacket): number {
  return (pkt.l3Type === L3.IPV4 || pkt.l3Type === L3.IPV6) && (pkt.l4Proto === 4 || pkt.l4Proto === 41) ? pkt.l4Off : -1;
}

/** copy_ttl_out: next-to-outermost TTL into the outermost (MPLS-MPLS, IP-MPLS, IP-IP). */
function copyTtlOut(pkt: ParsedPacket): HeaderActionResult {
  const b = pkt.frame;
  const m = pkt.mplsOff;
  if (m >= 0) {
    if ((b[m + 2] & 1) === 0) {
      if (m + 8 > b.length) return NOT_APPLIED;
      b[m + 3] = b[m + 7];
      return APPLIED;
    }
    const ip = mplsPayloadIp(pkt);
    if (ip < 0) return NOT_APPLIED;
    b[m + 3] = ipTtl(b, ip);
    return APPLIED;
  }
  const inner = innerIp(pkt);
  if (inner < 0) return NOT_APPLIED;
  setIpTtl(b, pkt.l3Off, ipTtl(b, inner));
  return APPLIED;
}

/** copy_ttl_in: outermost TTL into the next-to-outermost (MPLS-MPLS, MPLS-IP, IP-IP). */
function copyTtlIn(pkt: ParsedPacket): HeaderActionResult {
  const b = pkt.frame;
  const m = pkt.mplsOff;
  if (m >= 0) {
    if ((b[m + 2] & 1) === 0) {
      if (m + 8 > b.length) return NOT_APPLIED;
      b[m + 7] = b[m + 3];
      return APPLIED;
    }
    const ip = mplsPayloadIp(pkt);
    if (ip < 0) return NOT_APPLIED;
    setIpTtl(b, ip, b[m + 3]);
    return APPLIED;
  }
  const inner = innerIp(pkt);
  if (inner < 0) return NOT_APPLIED;
  setIpTtl(b, inner, ipTtl(b, pkt.l3Off));
  return APPLIED;
}

// ---------------------------------------------------------------------------
// push / pop. A push allocates the longer frame (Buffer.allocUnsafe takes
// small sizes from Node's pool); a pop moves the bytes before the tag up and
// takes a view, with no copy of the payload.

/** push_vlan: a new outermost tag; VID and PCP copied from the tag it covers, else 0. */
function pushVlan(pkt: ParsedPacket, ethertype: number): HeaderActionResult {
  const b = pkt.frame;
  const n = b.length;
  if (n < 12) return NOT_APPLIED;
  const tci = pkt.vlanOff >= 0 ? ((b[pkt.vlanOff + 2] << 8) | b[pkt.vlanOff + 3]) & 0xefff : 0;
  const nb = Buffer.allocUnsafe(n + 4);
  b.copy(nb, 0, 0, 12);
  nb[12] = ethertype >>> 8;
  nb[13] = ethertype & 0xff;
  nb[14] = tci >>> 8;
  nb[15] = tci & 0xff;
  b.copy(nb, 16, 12, n);
  pkt.frame = nb;
  reparse(pkt);
  return APPLIED;
}

/** pop_vlan: removes the outermost tag. */
function popVlan(pkt: ParsedPacket): HeaderActionResult {
  const off = pkt.vlanOff;
  if (off < 0) return NOT_APPLIED;
  const b = pkt.frame;
  b.copyWithin(4, 0, off);
  pkt.frame = b.subarray(4);
  reparse(pkt);
  return APPLIED;
}

/**
 * push_mpls: a new outermost label, after any VLAN tags (the outermost valid
 * place for an MPLS shim). Label, TC and TTL are copied from the label it
 * covers (its BoS then 0); else label 0, TC 0, BoS 1 and the IP TTL, or 0.
 */
function pushMpls(pkt: ParsedPacket, ethertype: number): HeaderActionResult {
  const b = pkt.frame;
  const n = b.length;
  const at = pkt.typeOff;
  if (at < 0 || at + 2 > n) return NOT_APPLIED;
  let e0 = 0;
  let e1 = 0;
  let e2 = 1;
  let e3 = 0;
  if (pkt.mplsOff >= 0) {
    const m = pkt.mplsOff;
    e0 = b[m];
    e1 = b[m + 1];
    e2 = b[m + 2] & 0xfe;
    e3 = b[m + 3];
  } else if (pkt.l3Type === L3.IPV4 || pkt.l3Type === L3.IPV6) {
    e3 = ipTtl(b, pkt.l3Off);
  }
  const nb = Buffer.allocUnsafe(n + 4);
  b.copy(nb, 0, 0, at);
  nb[at] = ethertype >>> 8;
  nb[at + 1] = ethertype & 0xff;
  nb[at + 2] = e0;
  nb[at + 3] = e1;
  nb[at + 4] = e2;
  nb[at + 5] = e3;
  b.copy(nb, at + 6, at + 2, n);
  pkt.frame = nb;
  reparse(pkt);
  return APPLIED;
}

/** pop_mpls: removes the outermost label; `ethertype` names what is left. */
function popMpls(pkt: ParsedPacket, ethertype: number): HeaderActionResult {
  const m = pkt.mplsOff;
  if (m < 0) return NOT_APPLIED;
  const b = pkt.frame;
  b[pkt.typeOff] = ethertype >>> 8;
  b[pkt.typeOff + 1] = ethertype & 0xff;
  b.copyWithin(4, 0, m);
  pkt.frame = b.subarray(4);
  reparse(pkt);
  return APPLIED;
}

/**
 * push_pbb: a new outer Ethernet header and I-TAG before the whole frame,
 * which becomes the customer frame. B-DA/B-SA are copied from the customer
 * addresses, I-PCP from the outermost VLAN PCP, I-SID from an existing I-TAG,
 * else 0.
 */
function pushPbb(pkt: ParsedPacket, ethertype: number): HeaderActionResult {
  const b = pkt.frame;
  const n = b.length;
  if (n < 12) return NOT_APPLIED;
  const pcp = pkt.vlanOff >= 0 ? b[pkt.vlanOff + 2] >>> 5 : 0;
  const p = pkt.pbbOff;
  const nb = Buffer.allocUnsafe(n + 18);
  b.copy(nb, 0, 0, 12);
  nb[12] = ethertype >>> 8;
  nb[13] = ethertype & 0xff;
  nb[14] = pcp << 5;
  nb[15] = p >= 0 ? b[p + 1] : 0;
  nb[16] = p >= 0 ? b[p + 2] : 0;
  nb[17] = p >= 0 ? b[p + 3] : 0;
  b.copy(nb, 18, 0, n);
  pkt.frame = nb;
  reparse(pkt);
  return APPLIED;
}

/** pop_pbb: drops the backbone header and I-TAG; the customer frame behind them is the packet. */
function popPbb(pkt: ParsedPacket): HeaderActionResult {
  const p = pkt.pbbOff;
  if (p < 0) return NOT_APPLIED;
  pkt.frame = pkt.frame.subarray(p + 4);
  reparse(pkt);
  return APPLIED;
}
