/**
 * The datapath's packet parser: one pass over an Ethernet frame that fills a
 * flow key (key.ts) with every OXM field and records the header offsets the
 * header actions (header-actions.ts) need. No I/O.
 *
 * Hot path: called once per packet (and again after an action that changes
 * the header structure), with a ≥ 1 M packets/s target. So: no closures, no
 * temporary objects or strings, bytes read by index (no Buffer.readUIntXX
 * bounds-check throws), and a ParsedPacket with a fixed shape (a class with
 * every field initialised in the constructor) so V8 keeps it monomorphic.
 *
 * Malformed or truncated frames never throw: each header is parsed only if
 * all of its bytes are there, and parsing stops at the first one that is not.
 */
import { ETH_TYPE, IP_PROTO, OFPIEH, OFPVID } from '@nicvisor/openflow';
import { KEY_WORDS, W } from './key.js';

/** What sits at `l3Off`. */
export const L3 = { NONE: 0, IPV4: 1, IPV6: 2, ARP: 3 } as const;

const TPID_8021Q = ETH_TYPE.VLAN;
const TPID_8021AD = ETH_TYPE.QINQ;

/** IPv6 next-header values of the extension headers (RFC 8200, RFC 4302/4303). */
const NH_HOP = 0;
const NH_ROUTING = 43;
const NH_FRAGMENT = 44;
const NH_ESP = 50;
const NH_AUTH = 51;
const NH_NONE = 59;
const NH_DEST = 60;

const ICMPV6_NS = 135;
const ICMPV6_NA = 136;

/**
 * Flow keys are carved from shared slabs. A Uint32Array of its own (newKey)
 * is too big for V8's on-heap typed arrays, so each one costs a separate
 * backing-store allocation and GC finalisation: measured at ~0.5 M keys/s
 * against ~14 M/s for a view on a slab, which alone would sink the 1 Mpps
 * target. A slab of 512 keys (~117 KB) stays alive while any key on it does;
 * a new slab is zeroed, and a slot is never handed out twice, so keys start
 * at zero.
 */
const SLAB_KEYS = 512;
let slab = new ArrayBuffer(SLAB_KEYS * KEY_WORDS * 4);
let slabUsed = 0;

function allocKey(): Uint32Array {
  if (slabUsed === SLAB_KEYS) {
    slab = new ArrayBuffer(SLAB_KEYS * KEY_WORDS * 4);
    slabUsed = 0;
  }
  return new Uint32Array(slab, slabUsed++ * KEY_WORDS * 4, KEY_WORDS);
}

/**
 * A frame with its flow key and header offsets. Offsets are byte indexes in
 * `frame`, -1 when the header is absent (or truncated).
 *
 * The packet owns `frame`: header actions edit it in place or replace it
 * (push/pop), so a caller that needs the frame as it was (a packet-in of the
 * original, each bucket of an ALL group) takes a clonePacket() first.
 */
export class ParsedPacket {
  frame: Buffer;
  /**
   * `frame` is not the packet's own (a received frame is the caller's):
   * whoever edits it first replaces it with a copy. Set by the receiver.
   */
  shared: boolean;
  readonly key: Uint32Array;
  /** Offset of the outermost VLAN tag (its TPID; the TCI is at +2). */
  vlanOff!: number;
  /** Offset of the EtherType after all VLAN tags: the key's eth_type. */
  typeOff!: number;
  /** Offset of the PBB I-TAG (4 bytes: PCP/DEI/UCA/res, I-SID) after an 0x88e7 EtherType. */
  pbbOff!: number;
  /** Offset of the outermost MPLS label stack entry. */
  mplsOff!: number;
  /** First byte after the bottom-of-stack entry (the MPLS payload); -1 if the stack is truncated. */
  mplsEnd!: number;
  /** IPv4/IPv6/ARP header (see l3Type). Not set for the payload of MPLS or PBB: OpenFlow does not parse past them. */
  l3Off!: number;
  l3Type!: number;
  /** End of the IP datagram in the frame: min(IP length, frame length); Ethernet padding lies beyond. */
  l3End!: number;
  /** The byte naming the upper-layer protocol: IPv4 protocol, or the last IPv6 next-header field. */
  protoOff!: number;
  /** IPv4 with MF or an offset, or IPv6 with a fragment header: L4 checksums then cover bytes not here. */
  fragment!: boolean;
  /** IPv6 with a routing header whose segments left > 0: the pseudo-header's destination is not ipv6_dst. */
  routed!: boolean;
  /** Transport header (TCP/UDP/SCTP/ICMP/ICMPv6, or an inner IP header for IP-in-IP). */
  l4Off!: number;
  /** Protocol of the header at l4Off as parsed, which fixes where its checksum is. */
  l4Proto!: number;
  /** ICMPv6 ND target address, and the 6-byte address of the SLL / TLL option. */
  ndTargetOff!: number;
  ndSllOff!: number;
  ndTllOff!: number;

  constructor(frame: Buffer, inPort: number) {
    this.frame = frame;
    this.shared = false;
    this.key = allocKey();
    this.clearLayers();
    this.key[W.in_port] = inPort;
    this.key[W.in_phy_port] = inPort;
  }

  /** Forgets every header offset: nothing parsed yet. */
  clearLayers(): void {
    this.vlanOff = -1;
    this.typeOff = -1;
    this.pbbOff = -1;
    this.mplsOff = -1;
    this.mplsEnd = -1;
    this.l3Off = -1;
    this.l3Type = L3.NONE;
    this.l3End = 0;
    this.protoOff = -1;
    this.fragment = false;
    this.routed = false;
    this.l4Off = -1;
    this.l4Proto = 0;
    this.ndTargetOff = -1;
    this.ndSllOff = -1;
    this.ndTllOff = -1;
  }
}

/** Parses `frame` received on `inPort` into a new ParsedPacket. Never throws. */
export function parsePacket(frame: Buffer, inPort: number): ParsedPacket {
  const pkt = new ParsedPacket(frame, inPort);
  parseFrame(pkt);
  return pkt;
}

/**
 * Re-parses `pkt` in place for a new frame, reusing its key (no allocation):
 * for a caller that recycles ParsedPacket objects.
 */
export function parseInto(pkt: ParsedPacket, frame: Buffer, inPort: number): void {
  pkt.frame = frame;
  pkt.key.fill(0);
  pkt.key[W.in_port] = inPort;
  pkt.key[W.in_phy_port] = inPort;
  parseFrame(pkt);
}

/**
 * Re-parses pkt.frame after a header action changed its structure. The
 * pipeline's fields (in_port, in_phy_port, metadata, tunnel_id) are kept.
 */
export function reparse(pkt: ParsedPacket): void {
  const k = pkt.key;
  const inPort = k[W.in_port];
  const inPhy = k[W.in_phy_port];
  const m0 = k[W.metadata];
  const m1 = k[W.metadata + 1];
  const t0 = k[W.tunnel_id];
  const t1 = k[W.tunnel_id + 1];
  k.fill(0);
  k[W.in_port] = inPort;
  k[W.in_phy_port] = inPhy;
  k[W.metadata] = m0;
  k[W.metadata + 1] = m1;
  k[W.tunnel_id] = t0;
  k[W.tunnel_id + 1] = t1;
  parseFrame(pkt);
}

/** Shortest Ethernet frame without its FCS (IEEE 802.3 minimum of 64 bytes, less 4). */
export const ETH_MIN_FRAME = 60;

/**
 * The frame as a port transmits it: zero-padded to 60 bytes when a pop left
 * it shorter (Ryu's expected frames are padded so). For the output path,
 * not the actions: the IP lengths keep the padding out of the datagram.
 */
export function padToMinimum(frame: Buffer): Buffer {
  if (frame.length >= ETH_MIN_FRAME) return frame;
  const out = Buffer.alloc(ETH_MIN_FRAME);
  frame.copy(out);
  return out;
}

/** A copy with its own frame and key, for a second, independent set of actions. */
export function clonePacket(pkt: ParsedPacket): ParsedPacket {
  const c = new ParsedPacket(Buffer.from(pkt.frame), 0);
  c.key.set(pkt.key);
  c.vlanOff = pkt.vlanOff;
  c.typeOff = pkt.typeOff;
  c.pbbOff = pkt.pbbOff;
  c.mplsOff = pkt.mplsOff;
  c.mplsEnd = pkt.mplsEnd;
  c.l3Off = pkt.l3Off;
  c.l3Type = pkt.l3Type;
  c.l3End = pkt.l3End;
  c.protoOff = pkt.protoOff;
  c.fragment = pkt.fragment;
  c.routed = pkt.routed;
  c.l4Off = pkt.l4Off;
  c.l4Proto = pkt.l4Proto;
  c.ndTargetOff = pkt.ndTargetOff;
  c.ndSllOff = pkt.ndSllOff;
  c.ndTllOff = pkt.ndTllOff;
  return c;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** Big-endian 32-bit word; its sign does not matter once stored in the Uint32Array key. */
function u32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

/** A 48-bit MAC as two key words, high 16 bits first. */
function loadMac(k: Uint32Array, w: number, b: Uint8Array, o: number): void {
  k[w] = (b[o] << 8) | b[o + 1];
  k[w + 1] = u32(b, o + 2);
}

function loadIpv6(k: Uint32Array, w: number, b: Uint8Array, o: number): void {
  k[w] = u32(b, o);
  k[w + 1] = u32(b, o + 4);
  k[w + 2] = u32(b, o + 8);
  k[w + 3] = u32(b, o + 12);
}

/** The parse proper; the key holds zeros except for the pipeline's fields. */
function parseFrame(pkt: ParsedPacket): void {
  const b = pkt.frame;
  const n = b.length;
  const k = pkt.key;
  pkt.clearLayers();

  if (n < 14) {
    if (n >= 6) loadMac(k, W.eth_dst, b, 0);
    if (n >= 12) loadMac(k, W.eth_src, b, 6);
    return;
  }
  loadMac(k, W.eth_dst, b, 0);
  loadMac(k, W.eth_src, b, 6);

  // VLAN tags (802.1Q and 802.1ad, any depth): the outermost gives VID/PCP.
  let p = 12;
  let type = u16(b, p);
  while ((type === TPID_8021Q || type === TPID_8021AD) && p + 6 <= n) {
    if (pkt.vlanOff < 0) {
      pkt.vlanOff = p;
      const tci = u16(b, p + 2);
      k[W.vlan_vid] = OFPVID.PRESENT | (tci & 0x0fff);
      k[W.vlan_pcp] = tci >>> 13;
    }
    p += 4;
    type = u16(b, p);
  }
  pkt.typeOff = p;
  k[W.eth_type] = type;
  p += 2;

  switch (type) {
    case ETH_TYPE.IPV4:
      parseIpv4(pkt, b, p, n);
      return;
    case ETH_TYPE.IPV6:
      parseIpv6(pkt, b, p, n);
      return;
    case ETH_TYPE.ARP:
      parseArp(pkt, b, p, n);
      return;
    case ETH_TYPE.MPLS:
    case ETH_TYPE.MPLS_MC:
      parseMpls(pkt, b, p, n);
      return;
    case ETH_TYPE.PBB:
      // The I-TAG; the customer frame behind it is matched only after pop_pbb.
      if (p + 4 <= n) {
        pkt.pbbOff = p;
        k[W.pbb_isid] = (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
      }
      return;
  }
}

function parseMpls(pkt: ParsedPacket, b: Buffer, p: number, n: number): void {
  if (p + 4 > n) return;
  const k = pkt.key;
  pkt.mplsOff = p;
  k[W.mpls_label] = (b[p] << 12) | (b[p + 1] << 4) | (b[p + 2] >>> 4);
  k[W.mpls_tc] = (b[p + 2] >>> 1) & 7;
  k[W.mpls_bos] = b[p + 2] & 1;
  // Find the bottom of the stack: TTL actions look at what follows it. The
  // payload itself is not parsed into the key (MPLS does not say what it is).
  for (; p + 4 <= n; p += 4) {
    if (b[p + 2] & 1) {
      pkt.mplsEnd = p + 4;
      return;
    }
  }
}

function parseArp(pkt: ParsedPacket, b: Buffer, p: number, n: number): void {
  // Only Ethernet/IPv4 ARP has the fields OpenFlow names.
  if (p + 28 > n || u16(b, p) !== 1 || u16(b, p + 2) !== ETH_TYPE.IPV4 || b[p + 4] !== 6 || b[p + 5] !== 4) return;
  const k = pkt.key;
  pkt.l3Off = p;
  pkt.l3Type = L3.ARP;
  k[W.arp_op] = u16(b, p + 6);
  loadMac(k, W.arp_sha, b, p + 8);
  k[W.arp_spa] = u32(b, p + 14);
  loadMac(k, W.arp_tha, b, p + 18);
  k[W.arp_tpa] = u32(b, p + 24);
}

function parseIpv4(pkt: ParsedPacket, b: Buffer, p: number, n: number): void {
  if (p + 20 > n || b[p] >>> 4 !== 4) return;
  const ihl = (b[p] & 0x0f) * 4;
  if (ihl < 20 || p + ihl > n) return;
  const k = pkt.key;
  pkt.l3Off = p;
  pkt.l3Type = L3.IPV4;
  const total = u16(b, p + 2);
  // A total length shorter than the header is garbled: fall back to the frame.
  pkt.l3End = total >= ihl && p + total < n ? p + total : n;
  k[W.ip_dscp] = b[p + 1] >>> 2;
  k[W.ip_ecn] = b[p + 1] & 3;
  const proto = b[p + 9];
  k[W.ip_proto] = proto;
  pkt.protoOff = p + 9;
  k[W.ipv4_src] = u32(b, p + 12);
  k[W.ipv4_dst] = u32(b, p + 16);
  const frag = u16(b, p + 6);
  pkt.fragment = (frag & 0x3fff) !== 0;
  // A later fragment carries no transport header.
  if ((frag & 0x1fff) === 0) parseL4(pkt, b, p + ihl, pkt.l3End, proto);
}

/**
 * Extension-header order ranks (RFC 8200 §4.1): hop-by-hop, destination
 * options (before routing), routing, fragment, AH, ESP, destination options
 * (final). A header ranked below one already seen is "unexpected sequencing".
 */
const RANK_HOP = 1;
const RANK_DEST1 = 2;
const RANK_ROUTER = 3;
const RANK_FRAG = 4;
const RANK_AUTH = 5;
const RANK_ESP = 6;
const RANK_DEST2 = 7;

function parseIpv6(pkt: ParsedPacket, b: Buffer, p: number, n: number): void {
  if (p + 40 > n || b[p] >>> 4 !== 6) return;
  const k = pkt.key;
  pkt.l3Off = p;
  pkt.l3Type = L3.IPV6;
  const payload = u16(b, p + 4);
  // Payload length 0 is a jumbogram (RFC 2675): the frame bounds it.
  pkt.l3End = payload !== 0 && p + 40 + payload < n ? p + 40 + payload : n;
  const end = pkt.l3End;
  const tc = ((b[p] & 0x0f) << 4) | (b[p + 1] >>> 4);
  k[W.ip_dscp] = tc >>> 2;
  k[W.ip_ecn] = tc & 3;
  k[W.ipv6_flabel] = ((b[p + 1] & 0x0f) << 16) | (b[p + 2] << 8) | b[p + 3];
  loadIpv6(k, W.ipv6_src, b, p + 8);
  loadIpv6(k, W.ipv6_dst, b, p + 24);

  // Extension headers: OFPIEH flags per OpenFlow 1.3.5 §7.2.3.8.
  let nh = b[p + 6];
  let nhOff = p + 6;
  let q = p + 40;
  let flags = 0;
  let rank = 0;
  let dests = 0;
  let l4 = true;
  for (;;) {
    let flag: number;
    let r: number;
    switch (nh) {
      case NH_HOP:
        flag = OFPIEH.HOP;
        r = RANK_HOP;
        // Hop-by-hop is allowed only right after the IPv6 header.
        if (q !== p + 40) flags |= OFPIEH.UNSEQ;
        break;
      case NH_DEST:
        flag = OFPIEH.DEST;
        r = rank < RANK_DEST1 ? RANK_DEST1 : RANK_DEST2;
        dests++;
        break;
      case NH_ROUTING:
        flag = OFPIEH.ROUTER;
        r = RANK_ROUTER;
        break;
      case NH_FRAGMENT:
        flag = OFPIEH.FRAG;
        r = RANK_FRAG;
        break;
      case NH_AUTH:
        flag = OFPIEH.AUTH;
        r = RANK_AUTH;
        break;
      case NH_ESP:
        flag = OFPIEH.ESP;
        r = RANK_ESP;
        break;
      case NH_NONE:
        flags |= OFPIEH.NONEXT;
        flag = 0;
        r = 0;
        l4 = false;
        break;
      default:
        flag = 0;
        r = 0;
    }
    if (flag === 0) break;
    if (nh === NH_DEST ? dests > 2 : (flags & flag) !== 0) flags |= OFPIEH.UNREP;
    if (r < rank) flags |= OFPIEH.UNSEQ;
    else rank = r;
    flags |= flag;
    // ESP encrypts everything after it, its next-header field included.
    if (nh === NH_ESP || q + 2 > end) {
      l4 = false;
      break;
    }
    let len: number;
    if (nh === NH_FRAGMENT) {
      len = 8;
      if (q + 8 > end) {
        l4 = false;
        break;
      }
      pkt.fragment = true;
      // A later fragment: the transport header is in the first one.
      if ((u16(b, q + 2) & 0xfff8) !== 0) l4 = false;
    } else if (nh === NH_AUTH) {
      len = (b[q + 1] + 2) * 4;
    } else {
      len = (b[q + 1] + 1) * 8;
      if (nh === NH_ROUTING && q + 4 <= end && b[q + 3] !== 0) pkt.routed = true;
    }
    nhOff = q;
    nh = b[q];
    q += len;
    if (!l4) break;
  }
  k[W.ipv6_exthdr] = flags;
  k[W.ip_proto] = nh;
  pkt.protoOff = nhOff;
  if (l4 && q <= end) parseL4(pkt, b, q, end, nh);
}

/** Transport header at `q`, bounded by the end of the IP datagram. */
function parseL4(pkt: ParsedPacket, b: Buffer, q: number, end: number, proto: number): void {
  const k = pkt.key;
  switch (proto) {
    case IP_PROTO.TCP:
      if (q + 20 > end) return;
      k[W.tcp_src] = u16(b, q);
      k[W.tcp_dst] = u16(b, q + 2);
      break;
    case IP_PROTO.UDP:
      if (q + 8 > end) return;
      k[W.udp_src] = u16(b, q);
      k[W.udp_dst] = u16(b, q + 2);
      break;
    case IP_PROTO.SCTP:
      if (q + 12 > end) return;
      k[W.sctp_src] = u16(b, q);
      k[W.sctp_dst] = u16(b, q + 2);
      break;
    case IP_PROTO.ICMP:
      if (q + 4 > end || pkt.l3Type !== L3.IPV4) return;
      k[W.icmpv4_type] = b[q];
      k[W.icmpv4_code] = b[q + 1];
      break;
    case IP_PROTO.ICMPV6: {
      if (q + 4 > end || pkt.l3Type !== L3.IPV6) return;
      const type = b[q];
      k[W.icmpv6_type] = type;
      k[W.icmpv6_code] = b[q + 1];
      if ((type === ICMPV6_NS || type === ICMPV6_NA) && b[q + 1] === 0 && q + 24 <= end) parseNd(pkt, b, q, end, type);
      break;
    }
    case 4: // IPv4 in IP: kept for copy_ttl_in/out between the two IP headers.
      if (q + 20 > end || b[q] >>> 4 !== 4) return;
      break;
    case 41: // IPv6 in IP
      if (q + 40 > end || b[q] >>> 4 !== 6) return;
      break;
    default:
      return;
  }
  pkt.l4Off = q;
  pkt.l4Proto = proto;
}

/** Neighbor solicitation/advertisement (RFC 4861 §4.3-4.4): target and the link-layer address options. */
function parseNd(pkt: ParsedPacket, b: Buffer, q: number, end: number, type: number): void {
  const k = pkt.key;
  pkt.ndTargetOff = q + 8;
  loadIpv6(k, W.ipv6_nd_target, b, q + 8);
  // Options: type, length in 8-byte units (0 is invalid), value. The SLL
  // counts only in a solicitation and the TLL only in an advertisement, as
  // the OXM prerequisites say; the first of each wins.
  for (let o = q + 24; o + 8 <= end; ) {
    const len = b[o + 1] * 8;
    if (len === 0 || o + len > end) return;
    if (b[o] === 1 && type === ICMPV6_NS && pkt.ndSllOff < 0 && len === 8) {
      pkt.ndSllOff = o + 2;
      loadMac(k, W.ipv6_nd_sll, b, o + 2);
    } else if (b[o] === 2 && type === ICMPV6_NA && pkt.ndTllOff < 0 && len === 8) {
      pkt.ndTllOff = o + 2;
      loadMac(k, W.ipv6_nd_tll, b, o + 2);
    }
    o += len;
  }
}
