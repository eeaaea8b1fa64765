import fc from 'fast-check';
import { OFPIEH } from '@nicvisor/openflow';
import { W } from './key.js';
import { L3, padToMinimum, parseInto, parsePacket, ParsedPacket } from './packet.js';

// --- frame builders (hand-made frames, no checksums needed by the parser)

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const u16 = (v: number) => Buffer.from([v >> 8, v & 0xff]);
const cat = (...parts: Buffer[]) => Buffer.concat(parts);

const DST = hex('0a0b0c0d0e0f');
const SRC = hex('020304050607');
const eth = (type: number, ...tags: Buffer[]) => cat(DST, SRC, ...tags, u16(type));
/** A VLAN tag: TPID then TCI (PCP, DEI 0, VID). */
const tag = (tpid: number, vid: number, pcp: number) => cat(u16(tpid), u16((pcp << 13) | vid));
/** An MPLS label stack entry. */
const lse = (label: number, tc: number, bos: number, ttl: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(((label << 12) | (tc << 9) | (bos << 8) | ttl) >>> 0);
  return b;
};

function ipv4(proto: number, payload: Buffer, o: { tos?: number; frag?: number; ttl?: number } = {}): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h[1] = o.tos ?? 0;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(o.frag ?? 0, 6);
  h[8] = o.ttl ?? 64;
  h[9] = proto;
  hex('c0a80a0a c0a81414').copy(h, 12);
  return cat(h, payload);
}

const SRC6 = hex('20010db8000000000000000000000001');
const DST6 = hex('20010db8000000000000000000000002');
function ipv6(nh: number, payload: Buffer, o: { tc?: number; flabel?: number } = {}): Buffer {
  const h = Buffer.alloc(40);
  const tc = o.tc ?? 0;
  h.writeUInt32BE(((6 << 28) | (tc << 20) | (o.flabel ?? 0)) >>> 0, 0);
  h.writeUInt16BE(payload.length, 4);
  h[6] = nh;
  h[7] = 64;
  SRC6.copy(h, 8);
  DST6.copy(h, 24);
  return cat(h, payload);
}

const tcp = (sp: number, dp: number) => cat(u16(sp), u16(dp), Buffer.alloc(8), hex('5000ffff 0000 0000'));
const udp = (sp: number, dp: number, data = Buffer.alloc(4)) => cat(u16(sp), u16(dp), u16(8 + data.length), u16(0), data);
const sctp = (sp: number, dp: number) => cat(u16(sp), u16(dp), Buffer.alloc(8), hex('00000010 00000000 00000000 00000000'));
/** Hop-by-hop / destination options / routing: next header, length in 8-byte units beyond the first 8. */
const ext8 = (nh: number, rest = hex('000000000000')) => cat(Buffer.from([nh, 0]), rest);
const routing = (nh: number, segLeft: number) => cat(Buffer.from([nh, 0, 0, segLeft]), Buffer.alloc(4));
const fragHdr = (nh: number, offset8: number, more: boolean) => cat(Buffer.from([nh, 0]), u16((offset8 << 3) | (more ? 1 : 0)), hex('12345678'));

const mac = (k: Uint32Array, w: number) => k[w].toString(16).padStart(4, '0') + k[w + 1].toString(16).padStart(8, '0');
const ip6 = (k: Uint32Array, w: number) => [0, 1, 2, 3].map((i) => k[w + i].toString(16).padStart(8, '0')).join('');

describe('parsePacket', () => {
  test('Ethernet / IPv4 / TCP: every field, in_port and in_phy_port, offsets', () => {
    const f = cat(eth(0x0800), ipv4(6, tcp(11111, 2222), { tos: (46 << 2) | 1 }));
    const p = parsePacket(f, 7);
    const k = p.key;
    expect(k[W.in_port]).toBe(7);
    expect(k[W.in_phy_port]).toBe(7);
    expect(k[W.metadata]).toBe(0);
    expect(k[W.tunnel_id + 1]).toBe(0);
    expect(mac(k, W.eth_dst)).toBe('0a0b0c0d0e0f');
    expect(mac(k, W.eth_src)).toBe('020304050607');
    expect(k[W.eth_type]).toBe(0x0800);
    expect(k[W.vlan_vid]).toBe(0);
    expect(k[W.ip_dscp]).toBe(46);
    expect(k[W.ip_ecn]).toBe(1);
    expect(k[W.ip_proto]).toBe(6);
    expect(k[W.ipv4_src]).toBe(0xc0a80a0a);
    expect(k[W.ipv4_dst]).toBe(0xc0a81414);
    expect(k[W.tcp_src]).toBe(11111);
    expect(k[W.tcp_dst]).toBe(2222);
    expect(p.typeOff).toBe(12);
    expect(p.l3Off).toBe(14);
    expect(p.l3Type).toBe(L3.IPV4);
    expect(p.l4Off).toBe(34);
    expect(p.l4Proto).toBe(6);
    expect(p.l3End).toBe(f.length);
  });

  test('802.1Q tag: VID with OFPVID_PRESENT, PCP, and the inner EtherType', () => {
    const p = parsePacket(cat(eth(0x0800, tag(0x8100, 100, 3)), ipv4(17, udp(53, 5353))), 1);
    expect(p.key[W.vlan_vid]).toBe(0x1000 | 100);
    expect(p.key[W.vlan_pcp]).toBe(3);
    expect(p.key[W.eth_type]).toBe(0x0800);
    expect(p.vlanOff).toBe(12);
    expect(p.typeOff).toBe(16);
    expect(p.key[W.udp_src]).toBe(53);
    expect(p.key[W.udp_dst]).toBe(5353);
  });

  test('QinQ (802.1ad outer, 802.1Q inner): the outermost tag gives VID/PCP', () => {
    const p = parsePacket(cat(eth(0x86dd, tag(0x88a8, 10, 5), tag(0x8100, 200, 1)), ipv6(6, tcp(1, 2))), 1);
    expect(p.key[W.vlan_vid]).toBe(0x1000 | 10);
    expect(p.key[W.vlan_pcp]).toBe(5);
    expect(p.key[W.eth_type]).toBe(0x86dd);
    expect(p.typeOff).toBe(20);
    expect(p.key[W.tcp_dst]).toBe(2);
  });

  test('VID 0 tagged (priority tag) is still OFPVID_PRESENT', () => {
    const p = parsePacket(cat(eth(0x0806, tag(0x8100, 0, 7)), Buffer.alloc(28)), 1);
    expect(p.key[W.vlan_vid]).toBe(0x1000);
    expect(p.key[W.vlan_pcp]).toBe(7);
  });

  test('MPLS stack: the outermost label, TC, BoS; the payload is not parsed into the key', () => {
    const f = cat(eth(0x8847), lse(100, 3, 0, 64), lse(0xfffff, 7, 1, 32), ipv4(6, tcp(1, 2)));
    const p = parsePacket(f, 1);
    expect(p.key[W.eth_type]).toBe(0x8847);
    expect(p.key[W.mpls_label]).toBe(100);
    expect(p.key[W.mpls_tc]).toBe(3);
    expect(p.key[W.mpls_bos]).toBe(0);
    expect(p.mplsOff).toBe(14);
    expect(p.mplsEnd).toBe(22);
    expect(p.key[W.ip_proto]).toBe(0);
    expect(p.key[W.tcp_src]).toBe(0);
    expect(p.l3Off).toBe(-1);
  });

  test('MPLS multicast with a 20-bit label', () => {
    const p = parsePacket(cat(eth(0x8848), lse(0xabcde, 5, 1, 1), Buffer.alloc(20)), 1);
    expect(p.key[W.mpls_label]).toBe(0xabcde);
    expect(p.key[W.mpls_tc]).toBe(5);
    expect(p.key[W.mpls_bos]).toBe(1);
  });

  test('PBB: I-SID from the I-TAG; the customer frame is not parsed', () => {
    const f = cat(eth(0x88e7), hex('60abcdef'), DST, SRC, u16(0x0800), ipv4(6, tcp(1, 2)));
    const p = parsePacket(f, 1);
    expect(p.key[W.eth_type]).toBe(0x88e7);
    expect(p.key[W.pbb_isid]).toBe(0xabcdef);
    expect(p.pbbOff).toBe(14);
    expect(p.key[W.ipv4_src]).toBe(0);
  });

  test('ARP: op, SPA, TPA, SHA, THA', () => {
    const arp = hex('0001 0800 06 04 0002 121111111111 c0a80a0a 222222222222 c0a81414');
    const p = parsePacket(cat(eth(0x0806), arp, Buffer.alloc(18)), 1);
    expect(p.l3Type).toBe(L3.ARP);
    expect(p.key[W.arp_op]).toBe(2);
    expect(p.key[W.arp_spa]).toBe(0xc0a80a0a);
    expect(p.key[W.arp_tpa]).toBe(0xc0a81414);
    expect(mac(p.key, W.arp_sha)).toBe('121111111111');
    expect(mac(p.key, W.arp_tha)).toBe('222222222222');
  });

  test('IPv4 fragments: the first carries L4 fields, a later one does not', () => {
    const first = parsePacket(cat(eth(0x0800), ipv4(6, tcp(80, 8080), { frag: 0x2000 })), 1);
    expect(first.fragment).toBe(true);
    expect(first.key[W.tcp_src]).toBe(80);
    const later = parsePacket(cat(eth(0x0800), ipv4(6, tcp(80, 8080), { frag: 185 })), 1);
    expect(later.fragment).toBe(true);
    expect(later.key[W.ip_proto]).toBe(6);
    expect(later.key[W.tcp_src]).toBe(0);
    expect(later.l4Off).toBe(-1);
  });

  test('IPv4 with options and Ethernet padding: L4 after IHL, datagram end before the padding', () => {
    const pkt = ipv4(17, udp(1, 2));
    pkt[0] = 0x46;
    const withOpt = cat(pkt.subarray(0, 20), hex('01010101'), pkt.subarray(20));
    withOpt.writeUInt16BE(withOpt.length, 2);
    const f = cat(eth(0x0800), withOpt, Buffer.alloc(10));
    const p = parsePacket(f, 1);
    expect(p.l4Off).toBe(14 + 24);
    expect(p.key[W.udp_dst]).toBe(2);
    expect(p.l3End).toBe(14 + withOpt.length);
  });

  test('IPv6: traffic class, flow label, addresses', () => {
    const p = parsePacket(cat(eth(0x86dd), ipv6(17, udp(546, 547), { tc: (10 << 2) | 2, flabel: 0xabcde })), 1);
    expect(p.key[W.ip_dscp]).toBe(10);
    expect(p.key[W.ip_ecn]).toBe(2);
    expect(p.key[W.ipv6_flabel]).toBe(0xabcde);
    expect(ip6(p.key, W.ipv6_src)).toBe(SRC6.toString('hex'));
    expect(ip6(p.key, W.ipv6_dst)).toBe(DST6.toString('hex'));
    expect(p.key[W.ipv6_exthdr]).toBe(0);
    expect(p.key[W.udp_src]).toBe(546);
  });

  test('IPv6 hop-by-hop + routing + fragment (first) headers: flags, final protocol, L4', () => {
    const payload = cat(ext8(43), routing(44, 1), fragHdr(17, 0, true), udp(1000, 2000));
    const p = parsePacket(cat(eth(0x86dd), ipv6(0, payload)), 1);
    expect(p.key[W.ipv6_exthdr]).toBe(OFPIEH.HOP | OFPIEH.ROUTER | OFPIEH.FRAG);
    expect(p.key[W.ip_proto]).toBe(17);
    expect(p.key[W.udp_src]).toBe(1000);
    expect(p.l4Off).toBe(14 + 40 + 24);
    expect(p.protoOff).toBe(14 + 40 + 16);
    expect(p.fragment).toBe(true);
    expect(p.routed).toBe(true);
  });

  test('IPv6 later fragment: protocol from the fragment header, no L4', () => {
    const p = parsePacket(cat(eth(0x86dd), ipv6(44, cat(fragHdr(6, 100, false), tcp(1, 2)))), 1);
    expect(p.key[W.ipv6_exthdr]).toBe(OFPIEH.FRAG);
    expect(p.key[W.ip_proto]).toBe(6);
    expect(p.key[W.tcp_src]).toBe(0);
  });

  test('IPv6 extension header anomalies: UNSEQ, UNREP, DEST twice, AUTH, ESP, NONEXT', () => {
    const flags = (nh: number, payload: Buffer) => parsePacket(cat(eth(0x86dd), ipv6(nh, payload)), 1).key[W.ipv6_exthdr];
    // Routing before hop-by-hop: hop-by-hop out of place.
    expect(flags(43, cat(routing(0, 0), ext8(6), tcp(1, 2)))).toBe(OFPIEH.ROUTER | OFPIEH.HOP | OFPIEH.UNSEQ);
    // Two routing headers.
    expect(flags(43, cat(routing(43, 0), routing(6, 0), tcp(1, 2)))).toBe(OFPIEH.ROUTER | OFPIEH.UNREP);
    // Destination options before routing and after: allowed.
    expect(flags(60, cat(ext8(43), routing(60, 0), ext8(6), tcp(1, 2)))).toBe(OFPIEH.DEST | OFPIEH.ROUTER);
    // A third destination options header.
    expect(flags(60, cat(ext8(43), routing(60, 0), ext8(60), ext8(6), tcp(1, 2)))).toBe(OFPIEH.DEST | OFPIEH.ROUTER | OFPIEH.UNREP);
    // Fragment before routing: out of order.
    expect(flags(44, cat(fragHdr(43, 0, false), routing(6, 0), tcp(1, 2)))).toBe(OFPIEH.FRAG | OFPIEH.ROUTER | OFPIEH.UNSEQ);
    // AH (length in 4-byte units, + 2) then TCP.
    const ah = cat(Buffer.from([6, 4]), Buffer.alloc(22));
    const withAh = parsePacket(cat(eth(0x86dd), ipv6(0, cat(ext8(51), ah, tcp(5, 6)))), 1);
    expect(withAh.key[W.ipv6_exthdr]).toBe(OFPIEH.HOP | OFPIEH.AUTH);
    expect(withAh.key[W.tcp_src]).toBe(5);
    // ESP: everything after it is opaque.
    const esp = parsePacket(cat(eth(0x86dd), ipv6(50, Buffer.alloc(32))), 1);
    expect(esp.key[W.ipv6_exthdr]).toBe(OFPIEH.ESP);
    expect(esp.key[W.ip_proto]).toBe(50);
    expect(esp.l4Off).toBe(-1);
    // No next header.
    const none = parsePacket(cat(eth(0x86dd), ipv6(0, ext8(59))), 1);
    expect(none.key[W.ipv6_exthdr]).toBe(OFPIEH.HOP | OFPIEH.NONEXT);
    expect(none.key[W.ip_proto]).toBe(59);
  });

  test('ICMPv6 neighbor solicitation with an SLL option', () => {
    const target = hex('fe800000000000000000000000000099');
    const ns = cat(hex('8700 0000 00000000'), target, hex('01 01 aabbccddeeff'), hex('0e 01 000000000000'));
    const p = parsePacket(cat(eth(0x86dd), ipv6(58, ns)), 1);
    expect(p.key[W.icmpv6_type]).toBe(135);
    expect(ip6(p.key, W.ipv6_nd_target)).toBe(target.toString('hex'));
    expect(mac(p.key, W.ipv6_nd_sll)).toBe('aabbccddeeff');
    expect(mac(p.key, W.ipv6_nd_tll)).toBe('000000000000');
    expect(p.ndSllOff).toBe(14 + 40 + 26);
  });

  test('ICMPv6 neighbor advertisement with a TLL option (an SLL option there is ignored)', () => {
    const na = cat(hex('8800 0000 60000000'), DST6, hex('01 01 111111111111'), hex('02 01 222222222222'));
    const p = parsePacket(cat(eth(0x86dd), ipv6(58, na)), 1);
    expect(p.key[W.icmpv6_type]).toBe(136);
    expect(mac(p.key, W.ipv6_nd_tll)).toBe('222222222222');
    expect(mac(p.key, W.ipv6_nd_sll)).toBe('000000000000');
  });

  test('ICMPv6 ND with a zero-length option stops at it', () => {
    const ns = cat(hex('8700 0000 00000000'), DST6, hex('01 00 aabbccddeeff'), hex('01 01 aabbccddeeff'));
    const p = parsePacket(cat(eth(0x86dd), ipv6(58, ns)), 1);
    expect(p.ndTargetOff).toBeGreaterThan(0);
    expect(p.ndSllOff).toBe(-1);
  });

  test('SCTP ports over IPv4 and IPv6; ICMPv4 type and code', () => {
    expect(parsePacket(cat(eth(0x0800), ipv4(132, sctp(2905, 2906))), 1).key[W.sctp_dst]).toBe(2906);
    expect(parsePacket(cat(eth(0x86dd), ipv6(132, sctp(2905, 2906))), 1).key[W.sctp_src]).toBe(2905);
    const icmp = parsePacket(cat(eth(0x0800), ipv4(1, hex('0301 0000 00000000'))), 1);
    expect(icmp.key[W.icmpv4_type]).toBe(3);
    expect(icmp.key[W.icmpv4_code]).toBe(1);
  });

  test('truncated frames parse as far as the bytes go, never throwing', () => {
    const ns = cat(hex('8700 0000 00000000'), DST6, hex('01 01 aabbccddeeff'));
    const frames = [
      cat(eth(0x86dd, tag(0x88a8, 1, 1), tag(0x8100, 2, 2)), ipv6(0, cat(ext8(43), routing(44, 1), fragHdr(58, 0, false), ns))),
      cat(eth(0x8847), lse(1, 0, 0, 1), lse(2, 0, 1, 1), ipv4(6, tcp(1, 2))),
      cat(eth(0x0800), ipv4(132, sctp(1, 2))),
    ];
    for (const f of frames) {
      for (let n = 0; n <= f.length; n++) {
        const p = parsePacket(f.subarray(0, n), 1);
        expect(p.key[W.in_port]).toBe(1);
      }
    }
    // Cut inside the TCP header: IPv4 fields yes, ports no.
    const cut = parsePacket(cat(eth(0x0800), ipv4(6, tcp(1, 2))).subarray(0, 14 + 20 + 10), 1);
    expect(cut.key[W.ipv4_src]).toBe(0xc0a80a0a);
    expect(cut.key[W.tcp_src]).toBe(0);
  });

  test('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(0x0800, 0x86dd, 0x8100, 0x88a8, 0x8847, 0x88e7, 0x0806), (bytes, type) => {
        const f = Buffer.from(bytes);
        if (f.length >= 14) f.writeUInt16BE(type, 12);
        parsePacket(f, 3);
      }),
      { numRuns: 2000 },
    );
  });

  test('parseInto reuses the packet and its key', () => {
    const p: ParsedPacket = parsePacket(cat(eth(0x0800, tag(0x8100, 5, 0)), ipv4(6, tcp(1, 2))), 1);
    const key = p.key;
    parseInto(p, cat(eth(0x0806), Buffer.alloc(28)), 4);
    expect(p.key).toBe(key);
    expect(p.key[W.vlan_vid]).toBe(0);
    expect(p.key[W.tcp_src]).toBe(0);
    expect(p.key[W.in_port]).toBe(4);
    expect(p.vlanOff).toBe(-1);
  });

  test('padToMinimum pads short frames to 60 bytes and leaves others alone', () => {
    expect(padToMinimum(Buffer.alloc(42, 1)).length).toBe(60);
    const long = Buffer.alloc(64);
    expect(padToMinimum(long)).toBe(long);
  });
});
