/**
 * Flows as text, in Open vSwitch's syntax: what `ovs-ofctl -O OpenFlow13
 * dump-flows` and `ofp-print` show. The format follows Open vSwitch 3.1
 * (Debian 3.1.0-2+deb12u1): lib/match.c match_format() for the field order,
 * names and masks, lib/ofp-actions.c for actions and instructions. Checked
 * against `ovs-ofctl ofp-print` of that version (see flow.spec.ts).
 *
 * Fields Open vSwitch cannot hold (in_phy_port, pbb_isid, ipv6_exthdr,
 * fields of other OXM classes) are appended after the ones it prints, in
 * wire order, under their OpenFlow names, so nothing is ever dropped.
 */
import type { Action } from '../actions.js';
import { ipv6FromBigInt, ipv6ToBigInt } from '../addr.js';
import { OFPAT, OFPIT, OFPP, OFPXMC } from '../constants.js';
import type { Instruction } from '../instructions.js';
import { isOpaque, type Match, type OxmField, type OxmName, type OxmOpaque, type OxmTlv, type OxmValue } from '../oxm.js';

/** OVS's default flow priority: match_format leaves it out. */
export const OFP_DEFAULT_PRIORITY = 0x8000;

const PORT_NAMES: ReadonlyMap<number, string> = new Map([
  [OFPP.IN_PORT, 'IN_PORT'],
  [OFPP.TABLE, 'TABLE'],
  [OFPP.NORMAL, 'NORMAL'],
  [OFPP.FLOOD, 'FLOOD'],
  [OFPP.ALL, 'ALL'],
  [OFPP.CONTROLLER, 'CONTROLLER'],
  [OFPP.LOCAL, 'LOCAL'],
  [OFPP.ANY, 'ANY'],
]);

/** A port number as OVS prints it: the reserved ports by name, others in decimal. */
export function formatPort(port: number): string {
  return PORT_NAMES.get(port) ?? String(port);
}

/** C's "%#x": "0" for zero, "0x…" otherwise. */
function hashHex(v: number | bigint): string {
  return v === 0 || v === 0n ? '0' : `0x${v.toString(16)}`;
}

function hex(v: number | bigint, digits = 0): string {
  return `0x${v.toString(16).padStart(digits, '0')}`;
}

// ---------------------------------------------------------------- addresses

function macBytes(s: string): number[] {
  return s.split(':').map((x) => parseInt(x, 16));
}

function andMac(v: string, m: string): string {
  const a = macBytes(v);
  const b = macBytes(m);
  return a.map((x, i) => (x & b[i]).toString(16).padStart(2, '0')).join(':');
}

/** eth_format_masked: the address, then "/mask" unless the mask is all ones. */
function formatMacMasked(v: string, m: string | undefined): string {
  if (m === undefined || m === 'ff:ff:ff:ff:ff:ff') return v;
  return `${andMac(v, m)}/${m}`;
}

function ipv4Int(s: string): number {
  return s.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
}

function ipv4Str(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Length of the prefix of ones if `mask` is a CIDR mask, else -1. */
function cidrLen(mask: bigint, width: number): number {
  const inv = ((1n << BigInt(width)) - 1n) ^ mask;
  if ((inv & (inv + 1n)) !== 0n) return -1;
  return width - (inv === 0n ? 0 : inv.toString(2).length);
}

/** ip_format_masked: "a.b.c.d", "a.b.c.d/24", or "a.b.c.d/m.m.m.m" for a non-CIDR mask. */
function formatIpv4Masked(v: string, m: string | undefined): string {
  if (m === undefined || m === '255.255.255.255') return v;
  const mask = ipv4Int(m);
  const value = ipv4Str((ipv4Int(v) & mask) >>> 0);
  const len = cidrLen(BigInt(mask), 32);
  return len >= 0 ? `${value}/${len}` : `${value}/${m}`;
}

function formatIpv6Masked(v: string, m: string | undefined): string {
  if (m === undefined) return v;
  const mask = ipv6ToBigInt(m);
  if (mask === (1n << 128n) - 1n) return v;
  const value = ipv6FromBigInt(ipv6ToBigInt(v) & mask);
  const len = cidrLen(mask, 128);
  return len >= 0 ? `${value}/${len}` : `${value}/${m}`;
}

// ---------------------------------------------------------------- match

type FieldMap = Map<OxmName, OxmField>;

function num(v: OxmValue | undefined): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}

function big(v: OxmValue | undefined): bigint {
  return typeof v === 'bigint' ? v : BigInt(typeof v === 'number' ? v : 0);
}

/** format_be64_masked: "%#x", then "/%#x" unless the mask is all ones. */
function u64Masked(name: string, f: OxmField): string {
  const m = f.mask === undefined ? undefined : big(f.mask);
  const v = m === undefined ? big(f.value) : big(f.value) & m;
  return m === undefined || m === 0xffffffffffffffffn ? `${name}=${hashHex(v)}` : `${name}=${hashHex(v)}/${hashHex(m)}`;
}

/** format_be16/be32_masked: decimal when exact, "0x…/0x…" when masked. */
function uintMasked(name: string, f: OxmField, allOnes: number): string {
  const v = num(f.value);
  if (f.mask === undefined || num(f.mask) === allOnes) return `${name}=${v}`;
  const m = num(f.mask);
  return `${name}=${hex((v & m) >>> 0)}/${hex(m)}`;
}

/** An OXM field of another class, or one the basic table does not know: class, field, bytes. */
export function formatOpaqueOxm(tlv: OxmOpaque): string {
  const cls =
    tlv.oxmClass === OFPXMC.NXM_0
      ? 'NXM_0'
      : tlv.oxmClass === OFPXMC.NXM_1
        ? 'NXM_1'
        : tlv.oxmClass === OFPXMC.OPENFLOW_BASIC
          ? 'OFPXMC_OPENFLOW_BASIC'
          : tlv.oxmClass === OFPXMC.EXPERIMENTER
            ? 'OFPXMC_EXPERIMENTER'
            : hex(tlv.oxmClass, 4);
  let payload = tlv.payload;
  let prefix = `oxm:${cls}:${tlv.field}`;
  if (tlv.oxmClass === OFPXMC.EXPERIMENTER && payload.length >= 4) {
    prefix = `oxm:experimenter=${hex(payload.readUInt32BE(0), 8)}:${tlv.field}`;
    payload = payload.subarray(4);
  }
  if (payload.length === 0) return prefix;
  if (tlv.hasMask && payload.length % 2 === 0) {
    const half = payload.length / 2;
    return `${prefix}=0x${payload.subarray(0, half).toString('hex')}/0x${payload.subarray(half).toString('hex')}`;
  }
  return `${prefix}=0x${payload.toString('hex')}`;
}

/** NXM_NX_TUN_IPV4_SRC / _DST (NXM_1 fields 31 and 32), which OVS prints as tun_src= / tun_dst=. */
function nxmTunnelIpv4(tlv: OxmOpaque): string | undefined {
  if (tlv.oxmClass !== OFPXMC.NXM_1 || (tlv.field !== 31 && tlv.field !== 32)) return undefined;
  const p = tlv.payload;
  if (p.length !== (tlv.hasMask ? 8 : 4)) return undefined;
  const name = tlv.field === 31 ? 'tun_src' : 'tun_dst';
  const v = `${p[0]}.${p[1]}.${p[2]}.${p[3]}`;
  return `${name}=${formatIpv4Masked(v, tlv.hasMask ? `${p[4]}.${p[5]}.${p[6]}.${p[7]}` : undefined)}`;
}

/** A basic field OVS does not model: its OpenFlow name and value. */
function formatOtherField(f: OxmField): string {
  const v = f.value;
  const show = (x: OxmValue) => (typeof x === 'string' ? x : typeof x === 'bigint' ? hashHex(x) : String(x));
  if (f.field === 'pbb_isid' || f.field === 'ipv6_exthdr') {
    return f.mask === undefined ? `${f.field}=${hex(num(v))}` : `${f.field}=${hex(num(v))}/${hex(num(f.mask))}`;
  }
  return f.mask === undefined ? `${f.field}=${show(v)}` : `${f.field}=${show(v)}/${show(f.mask)}`;
}

const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_RARP = 0x8035;
const ETH_MPLS = 0x8847;
const ETH_MPLS_MC = 0x8848;
const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_SCTP = 132;
const PROTO_ICMPV6 = 58;

/** The fields match_format prints; everything else falls through to the tail. */
const OVS_FIELDS: ReadonlySet<OxmName> = new Set<OxmName>([
  'in_port',
  'metadata',
  'eth_dst',
  'eth_src',
  'eth_type',
  'vlan_vid',
  'vlan_pcp',
  'ip_dscp',
  'ip_ecn',
  'ip_proto',
  'ipv4_src',
  'ipv4_dst',
  'tcp_src',
  'tcp_dst',
  'udp_src',
  'udp_dst',
  'sctp_src',
  'sctp_dst',
  'icmpv4_type',
  'icmpv4_code',
  'arp_op',
  'arp_spa',
  'arp_tpa',
  'arp_sha',
  'arp_tha',
  'ipv6_src',
  'ipv6_dst',
  'ipv6_flabel',
  'icmpv6_type',
  'icmpv6_code',
  'ipv6_nd_target',
  'ipv6_nd_sll',
  'ipv6_nd_tll',
  'mpls_label',
  'mpls_tc',
  'mpls_bos',
  'tunnel_id',
]);

/**
 * The vlan_tci view OVS keeps of vlan_vid and vlan_pcp (OFPVID_PRESENT is
 * the CFI bit, 0x1000), printed as dl_vlan= / dl_vlan_pcp= when that is
 * exact, else as vlan_tci=0x…/0x….
 */
function formatVlan(vid: OxmField | undefined, pcp: OxmField | undefined): string[] {
  if (vid === undefined && pcp === undefined) return [];
  let tci = 0;
  let mask = 0;
  if (vid !== undefined) {
    const m = vid.mask === undefined ? 0x1fff : num(vid.mask) & 0x1fff;
    tci |= num(vid.value) & m;
    mask |= m;
  }
  if (pcp !== undefined) {
    tci |= ((num(pcp.value) & 7) << 13) | 0x1000;
    mask |= 0xe000 | 0x1000;
  }
  const vidMask = mask & 0x0fff;
  const pcpMask = mask & 0xe000;
  if (mask & 0x1000 && tci & 0x1000 && (!vidMask || vidMask === 0x0fff) && (!pcpMask || pcpMask === 0xe000) && (vidMask || pcpMask)) {
    const out: string[] = [];
    if (vidMask) out.push(`dl_vlan=${tci & 0x0fff}`);
    if (pcpMask) out.push(`dl_vlan_pcp=${tci >>> 13}`);
    return out;
  }
  const t = tci.toString(16).padStart(4, '0');
  return mask === 0xffff ? [`vlan_tci=0x${t}`] : [`vlan_tci=0x${t}/0x${mask.toString(16).padStart(4, '0')}`];
}

/**
 * A match in OVS's syntax (without priority): protocol shorthand first
 * (ip, tcp, arp, ipv6, icmp6…), then the fields in match_format's order.
 * The empty match is the empty string.
 */
export function formatMatch(match: Match): string {
  const fields: FieldMap = new Map();
  const tunnel: string[] = [];
  const tail: string[] = [];
  for (const tlv of match) {
    const tunIp = isOpaque(tlv) ? nxmTunnelIpv4(tlv) : undefined;
    if (tunIp !== undefined) tunnel.push(tunIp);
    else if (isOpaque(tlv)) tail.push(formatOpaqueOxm(tlv));
    else if (!OVS_FIELDS.has(tlv.field) || fields.has(tlv.field)) tail.push(formatOtherField(tlv));
    else fields.set(tlv.field, tlv);
  }
  const f = (n: OxmName) => fields.get(n);
  const out: string[] = [];
  const ethType = f('eth_type');
  const dlType = ethType === undefined ? undefined : num(ethType.value);
  const ipProto = f('ip_proto');
  const nwProto = ipProto === undefined ? undefined : num(ipProto.value);

  let skipType = false;
  let skipProto = false;
  if (dlType !== undefined) {
    skipType = true;
    if (dlType === ETH_IP || dlType === ETH_IPV6) {
      const v6 = dlType === ETH_IPV6;
      // OVS 3.1 has no igmp shorthand: an IGMP match prints as ip,nw_proto=2 (checked against ovs-ofctl dump-flows).
      const shorthand: Record<number, string> = v6
        ? { [PROTO_ICMPV6]: 'icmp6', [PROTO_TCP]: 'tcp6', [PROTO_UDP]: 'udp6', [PROTO_SCTP]: 'sctp6' }
        : { [PROTO_ICMP]: 'icmp', [PROTO_TCP]: 'tcp', [PROTO_UDP]: 'udp', [PROTO_SCTP]: 'sctp' };
      const s = nwProto === undefined ? undefined : shorthand[nwProto];
      skipProto = s !== undefined;
      out.push(s ?? (v6 ? 'ipv6' : 'ip'));
    } else if (dlType === ETH_ARP) out.push('arp');
    else if (dlType === ETH_RARP) out.push('rarp');
    else if (dlType === ETH_MPLS) out.push('mpls');
    else if (dlType === ETH_MPLS_MC) out.push('mplsm');
    else skipType = false;
  }

  const tun = f('tunnel_id');
  if (tun) out.push(u64Masked('tun_id', tun));
  out.push(...tunnel.sort().reverse()); // tun_src before tun_dst
  const metadata = f('metadata');
  if (metadata) out.push(u64Masked('metadata', metadata));
  const inPort = f('in_port');
  if (inPort) out.push(`in_port=${formatPort(num(inPort.value))}`);
  out.push(...formatVlan(f('vlan_vid'), f('vlan_pcp')));
  const ethSrc = f('eth_src');
  if (ethSrc) out.push(`dl_src=${formatMacMasked(String(ethSrc.value), ethSrc.mask as string | undefined)}`);
  const ethDst = f('eth_dst');
  if (ethDst) out.push(`dl_dst=${formatMacMasked(String(ethDst.value), ethDst.mask as string | undefined)}`);
  if (!skipType && dlType !== undefined) out.push(`dl_type=${hex(dlType, 4)}`);

  const ip6 = (name: string, x: OxmField | undefined) => {
    if (x) out.push(`${name}=${formatIpv6Masked(String(x.value), x.mask as string | undefined)}`);
  };
  const ip4 = (name: string, x: OxmField | undefined) => {
    if (x) out.push(`${name}=${formatIpv4Masked(String(x.value), x.mask as string | undefined)}`);
  };
  const mac = (name: string, x: OxmField | undefined) => {
    if (x) out.push(`${name}=${formatMacMasked(String(x.value), x.mask as string | undefined)}`);
  };
  ip6('ipv6_src', f('ipv6_src'));
  ip6('ipv6_dst', f('ipv6_dst'));
  const label = f('ipv6_flabel');
  if (label) {
    const v = num(label.value).toString(16).padStart(5, '0');
    out.push(
      label.mask === undefined || num(label.mask) === 0xffffffff
        ? `ipv6_label=0x${v}`
        : `ipv6_label=0x${(num(label.value) & num(label.mask)).toString(16).padStart(5, '0')}/0x${num(label.mask).toString(16).padStart(5, '0')}`,
    );
  }
  ip4('arp_spa', f('arp_spa'));
  ip4('arp_tpa', f('arp_tpa'));
  ip4('nw_src', f('ipv4_src'));
  ip4('nw_dst', f('ipv4_dst'));
  const arpOp = f('arp_op');
  if (arpOp) out.push(`arp_op=${num(arpOp.value)}`);
  if (!skipProto && nwProto !== undefined) out.push(`nw_proto=${nwProto}`);
  mac('arp_sha', f('arp_sha'));
  mac('arp_tha', f('arp_tha'));
  const dscp = f('ip_dscp');
  if (dscp) out.push(`nw_tos=${(num(dscp.value) << 2) & 0xfc}`);
  const ecn = f('ip_ecn');
  if (ecn) out.push(`nw_ecn=${num(ecn.value) & 3}`);
  const exact = (name: string, x: OxmField | undefined) => {
    if (x) out.push(`${name}=${num(x.value)}`);
  };
  exact('mpls_label', f('mpls_label'));
  exact('mpls_tc', f('mpls_tc'));
  exact('mpls_bos', f('mpls_bos'));
  // OVS keeps one tp_src/tp_dst pair and names it after the protocol.
  exact('icmp_type', f('icmpv4_type'));
  exact('icmp_code', f('icmpv4_code'));
  exact('icmp_type', f('icmpv6_type'));
  exact('icmp_code', f('icmpv6_code'));
  ip6('nd_target', f('ipv6_nd_target'));
  mac('nd_sll', f('ipv6_nd_sll'));
  mac('nd_tll', f('ipv6_nd_tll'));
  for (const [s, d] of [
    ['tcp_src', 'tcp_dst'],
    ['udp_src', 'udp_dst'],
    ['sctp_src', 'sctp_dst'],
  ] as const) {
    const src = f(s);
    const dst = f(d);
    if (src) out.push(uintMasked('tp_src', src, 0xffff));
    if (dst) out.push(uintMasked('tp_dst', dst, 0xffff));
  }
  out.push(...tail);
  return out.join(',');
}

/** match_format with a priority: "priority=N," first unless N is OVS's default 32768. */
export function formatFlow(priority: number, match: Match): string {
  const m = formatMatch(match);
  if (priority === OFP_DEFAULT_PRIORITY) return m;
  return m === '' ? `priority=${priority}` : `priority=${priority},${m}`;
}

// ---------------------------------------------------------------- actions

/** OVS's names for fields as set_field targets (mf_field names). */
const SET_FIELD_NAMES: Partial<Record<OxmName, string>> = {
  in_port: 'in_port_oxm',
  metadata: 'metadata',
  eth_dst: 'eth_dst',
  eth_src: 'eth_src',
  eth_type: 'eth_type',
  vlan_vid: 'vlan_vid',
  vlan_pcp: 'vlan_pcp',
  ip_dscp: 'ip_dscp',
  ip_ecn: 'nw_ecn',
  ip_proto: 'nw_proto',
  ipv4_src: 'ip_src',
  ipv4_dst: 'ip_dst',
  tcp_src: 'tcp_src',
  tcp_dst: 'tcp_dst',
  udp_src: 'udp_src',
  udp_dst: 'udp_dst',
  sctp_src: 'sctp_src',
  sctp_dst: 'sctp_dst',
  icmpv4_type: 'icmp_type',
  icmpv4_code: 'icmp_code',
  arp_op: 'arp_op',
  arp_spa: 'arp_spa',
  arp_tpa: 'arp_tpa',
  arp_sha: 'arp_sha',
  arp_tha: 'arp_tha',
  ipv6_src: 'ipv6_src',
  ipv6_dst: 'ipv6_dst',
  ipv6_flabel: 'ipv6_label',
  icmpv6_type: 'icmpv6_type',
  icmpv6_code: 'icmpv6_code',
  ipv6_nd_target: 'nd_target',
  ipv6_nd_sll: 'nd_sll',
  ipv6_nd_tll: 'nd_tll',
  mpls_label: 'mpls_label',
  mpls_tc: 'mpls_tc',
  mpls_bos: 'mpls_bos',
  tunnel_id: 'tun_id',
};

/** mf_format: a set_field value as OVS prints it. */
function formatSetFieldValue(f: OxmField): string {
  const one = (v: OxmValue): string => {
    if (typeof v === 'string') return v;
    if (typeof v === 'bigint') return hex(v);
    if (f.field === 'in_port') return formatPort(v);
    if (f.field === 'eth_type' || f.field === 'ipv6_flabel' || f.field === 'pbb_isid' || f.field === 'ipv6_exthdr') return hex(v);
    return String(v);
  };
  return f.mask === undefined ? one(f.value) : `${one(f.value)}/${one(f.mask)}`;
}

function formatSetField(tlv: OxmTlv): string {
  if (isOpaque(tlv)) return `set_field:${formatOpaqueOxm(tlv)}`;
  return `set_field:${formatSetFieldValue(tlv)}->${SET_FIELD_NAMES[tlv.field] ?? tlv.field}`;
}

/** One action, as ofp-actions.c formats it. */
export function formatAction(a: Action): string {
  switch (a.type) {
    case OFPAT.OUTPUT:
      if (a.port === OFPP.CONTROLLER) return `CONTROLLER:${a.maxLen}`;
      return a.port < OFPP.MAX ? `output:${a.port}` : formatPort(a.port);
    case OFPAT.COPY_TTL_OUT:
      return 'copy_ttl_out';
    case OFPAT.COPY_TTL_IN:
      return 'copy_ttl_in';
    case OFPAT.SET_MPLS_TTL:
      return `set_mpls_ttl(${a.mplsTtl})`;
    case OFPAT.DEC_MPLS_TTL:
      return 'dec_mpls_ttl';
    case OFPAT.PUSH_VLAN:
      return `push_vlan:${hex(a.ethertype, 4)}`;
    case OFPAT.POP_VLAN:
      return 'pop_vlan';
    case OFPAT.PUSH_MPLS:
      return `push_mpls:${hex(a.ethertype, 4)}`;
    case OFPAT.POP_MPLS:
      return `pop_mpls:${hex(a.ethertype, 4)}`;
    case OFPAT.SET_QUEUE:
      return `set_queue:${a.queueId}`;
    case OFPAT.GROUP:
      return `group:${a.groupId}`;
    case OFPAT.SET_NW_TTL:
      return `mod_nw_ttl:${a.nwTtl}`;
    case OFPAT.DEC_NW_TTL:
      return 'dec_ttl';
    case OFPAT.SET_FIELD:
      return formatSetField(a.field);
    case OFPAT.PUSH_PBB:
      return `push_pbb:${hex(a.ethertype, 4)}`;
    case OFPAT.POP_PBB:
      return 'pop_pbb';
    case OFPAT.EXPERIMENTER:
      return a.data.length === 0 ? `experimenter:${hex(a.experimenter)}` : `experimenter:${hex(a.experimenter)}(${a.data.toString('hex')})`;
    default: {
      const unknown = a as { type: number };
      return `action:${unknown.type}`;
    }
  }
}

/** An action list: comma-separated, "drop" when empty. */
export function formatActions(actions: readonly Action[]): string {
  return actions.length === 0 ? 'drop' : actions.map(formatAction).join(',');
}

/** OVS shows instructions in the order the spec executes them, whatever their wire order. */
const INSTRUCTION_ORDER: Record<number, number> = {
  [OFPIT.METER]: 0,
  [OFPIT.APPLY_ACTIONS]: 1,
  [OFPIT.CLEAR_ACTIONS]: 2,
  [OFPIT.WRITE_ACTIONS]: 3,
  [OFPIT.WRITE_METADATA]: 4,
  [OFPIT.GOTO_TABLE]: 5,
  [OFPIT.EXPERIMENTER]: 6,
};

function formatInstruction(i: Instruction): string[] {
  switch (i.type) {
    case OFPIT.GOTO_TABLE:
      return [`goto_table:${i.tableId}`];
    case OFPIT.WRITE_METADATA:
      return [i.metadataMask === 0xffffffffffffffffn ? `write_metadata:${hashHex(i.metadata)}` : `write_metadata:${hashHex(i.metadata)}/${hashHex(i.metadataMask)}`];
    case OFPIT.APPLY_ACTIONS:
      return i.actions.map(formatAction);
    case OFPIT.WRITE_ACTIONS:
      return [`write_actions(${i.actions.map(formatAction).join(',')})`];
    case OFPIT.CLEAR_ACTIONS:
      return ['clear_actions'];
    case OFPIT.METER:
      return [`meter:${i.meterId}`];
    case OFPIT.EXPERIMENTER:
      return [i.data.length === 0 ? `experimenter_instruction:${hex(i.experimenter)}` : `experimenter_instruction:${hex(i.experimenter)}(${i.data.toString('hex')})`];
    default: {
      const unknown = i as { type: number };
      return [`instruction:${unknown.type}`];
    }
  }
}

/**
 * Instructions as the `actions=` part of a flow: apply-actions inline, the
 * others as meter:N, clear_actions, write_actions(…), write_metadata:…,
 * goto_table:N; "drop" when there is nothing to do.
 */
export function formatInstructions(instructions: readonly Instruction[]): string {
  const sorted = [...instructions].sort((a, b) => (INSTRUCTION_ORDER[a.type] ?? 7) - (INSTRUCTION_ORDER[b.type] ?? 7));
  const parts = sorted.flatMap(formatInstruction);
  return parts.length === 0 ? 'drop' : parts.join(',');
}
