/**
 * ovs-ofctl's flow syntax, parsed: the text `ovs-ofctl -O OpenFlow13
 * add-flow` accepts (and what formatFlow / formatInstructions print) into
 * FlowMod objects; dump-flows / del-flows filters; group and meter syntax
 * (`group_id=1,type=select,bucket=weight:1,actions=output:2`,
 * `meter=1,kbps,burst,bands=type=drop,rate=1000,burst_size=100`).
 * Follows Open vSwitch 3.1's lib/ofp-flow.c parse_ofp_str__ and
 * lib/ofp-actions.c. Every error is a FlowSyntaxError naming the bad token
 * and its position in the input.
 */
import type { Action } from '../actions.js';
import { ipv6FromBigInt } from '../addr.js';
import { ETH_TYPE, IP_PROTO, OFP_NO_BUFFER, OFPAT, OFPCML, OFPFC, OFPFF, OFPG, OFPGC, OFPGT, OFPIT, OFPM, OFPMBT, OFPMC, OFPMF, OFPP, OFPT, OFPTT } from '../constants.js';
import type { Instruction } from '../instructions.js';
import type { FlowMod } from '../messages/flow-mod.js';
import type { Bucket, GroupMod } from '../messages/group-mod.js';
import type { MeterBand, MeterMod } from '../messages/meter-mod.js';
import { oxmByName, type Match, type OxmDescriptor, type OxmField, type OxmName, type OxmValue } from '../oxm.js';

/** A syntax error in flow, group or meter text: the offending token and where it starts (0-based). */
export class FlowSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly token: string,
    readonly position: number,
  ) {
    super(`${reason} (at "${token}", position ${position + 1})`);
    this.name = 'FlowSyntaxError';
  }
}

/** Port names (--names): name → number. */
export type PortNames = ReadonlyMap<string, number>;

export interface ParseOptions {
  portNames?: PortNames;
}

// ---------------------------------------------------------------- tokens

export interface Token {
  key: string;
  /** undefined for a bare word ("ip", "drop"). */
  value?: string;
  /** Where the key starts, and where the value starts, in the whole input. */
  pos: number;
  valuePos: number;
  /** The whole token as written. */
  text: string;
}

const DELIM = /[,\s]/;

/**
 * ofputil_parse_key_value: `key=value`, `key:value`, `key(value)` or a bare
 * `key`, separated by commas or white space; parentheses nest inside values.
 */
export function tokenize(s: string, offset = 0): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && DELIM.test(s[i])) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && !DELIM.test(s[i]) && s[i] !== '=' && s[i] !== ':' && s[i] !== '(') i++;
    const key = s.slice(start, i);
    if (i < n && s[i] === '(') {
      let depth = 1;
      const vs = ++i;
      while (i < n && depth > 0) {
        if (s[i] === '(') depth++;
        else if (s[i] === ')') depth--;
        i++;
      }
      if (depth > 0) throw new FlowSyntaxError('unbalanced parentheses', s.slice(start), offset + start);
      out.push({ key, value: s.slice(vs, i - 1), pos: offset + start, valuePos: offset + vs, text: s.slice(start, i) });
      continue;
    }
    if (i < n && (s[i] === '=' || s[i] === ':')) {
      const vs = ++i;
      let depth = 0;
      while (i < n && (depth > 0 || !DELIM.test(s[i]))) {
        if (s[i] === '(') depth++;
        else if (s[i] === ')') depth--;
        i++;
      }
      out.push({ key, value: s.slice(vs, i), pos: offset + start, valuePos: offset + vs, text: s.slice(start, i) });
      continue;
    }
    out.push({ key, pos: offset + start, valuePos: offset + i, text: key });
  }
  return out;
}

function fail(t: Token, reason: string): never {
  throw new FlowSyntaxError(reason, t.text, t.pos);
}

function need(t: Token): string {
  if (t.value === undefined || t.value === '') fail(t, `${t.key} needs a value`);
  return t.value;
}

// ---------------------------------------------------------------- numbers and addresses

function parseUint(t: Token, s: string, max: number, what = t.key): number {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(s)) fail(t, `${what}: "${s}" is not a number`);
  const v = Number(s);
  if (!Number.isSafeInteger(v) || v > max) fail(t, `${what}: ${s} is out of range (0..${max})`);
  return v;
}

function parseU64(t: Token, s: string, what = t.key): bigint {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(s)) fail(t, `${what}: "${s}" is not a number`);
  const v = BigInt(s);
  if (v > 0xffffffffffffffffn) fail(t, `${what}: ${s} does not fit in 64 bits`);
  return v;
}

function parseMacText(t: Token, s: string): string {
  if (!/^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}$/i.test(s)) fail(t, `${t.key}: "${s}" is not an Ethernet address`);
  return s
    .split(':')
    .map((x) => x.toLowerCase().padStart(2, '0'))
    .join(':');
}

function ipv4Num(t: Token, s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m || m.slice(1).some((x) => Number(x) > 255)) fail(t, `${t.key}: "${s}" is not an IPv4 address`);
  return m.slice(1).reduce((a, x) => a * 256 + Number(x), 0);
}

function ipv4Text(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function ipv6Num(t: Token, s: string): bigint {
  const bad = (): never => fail(t, `${t.key}: "${s}" is not an IPv6 address`);
  if (!/^[0-9a-f:]+$/i.test(s) || s.split('::').length > 2) bad();
  const halves = s.split('::');
  const groups = (p: string): number[] => (p === '' ? [] : p.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : bad())));
  const head = groups(halves[0]);
  const tail = halves.length > 1 ? groups(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) bad();
  return [...head, ...new Array<number>(fill).fill(0), ...tail].reduce((a, g) => (a << 16n) | BigInt(g), 0n);
}


/** A value (and mask) of one OXM field, from "V" or "V/M" (or "V/LEN" for addresses). */
function parseOxmValue(t: Token, d: OxmDescriptor, s: string, allowMask: boolean, portNames?: PortNames): { value: OxmValue; mask?: OxmValue } | undefined {
  const slash = s.indexOf('/');
  const vs = slash < 0 ? s : s.slice(0, slash);
  const ms = slash < 0 ? undefined : s.slice(slash + 1);
  if (ms !== undefined && (!allowMask || !d.maskable)) fail(t, `${t.key} cannot be masked`);
  switch (d.kind) {
    case 'uint': {
      const max = d.bits >= 32 ? 0xffffffff : 2 ** d.bits - 1;
      const value = d.name === 'in_port' ? parsePortNumber(t, vs, portNames) : parseUint(t, vs, d.name === 'vlan_vid' ? 0x1fff : max);
      if (ms === undefined) return { value };
      const mask = parseUint(t, ms, max);
      if (mask === 0) return undefined;
      return mask === max ? { value } : { value: (value & mask) >>> 0, mask };
    }
    case 'u64': {
      const value = parseU64(t, vs);
      if (ms === undefined) return { value };
      const mask = parseU64(t, ms);
      if (mask === 0n) return undefined;
      return mask === 0xffffffffffffffffn ? { value } : { value: value & mask, mask };
    }
    case 'mac': {
      const value = parseMacText(t, vs);
      if (ms === undefined) return { value };
      const mask = parseMacText(t, ms);
      if (mask === '00:00:00:00:00:00') return undefined;
      if (mask === 'ff:ff:ff:ff:ff:ff') return { value };
      const v = value.split(':').map((x, i) => (parseInt(x, 16) & parseInt(mask.split(':')[i], 16)).toString(16).padStart(2, '0'));
      return { value: v.join(':'), mask };
    }
    case 'ipv4': {
      const v = ipv4Num(t, vs);
      if (ms === undefined) return { value: vs.split('.').map(Number).join('.') };
      let m: number;
      if (/^\d{1,2}$/.test(ms)) {
        const len = Number(ms);
        if (len > 32) fail(t, `${t.key}: prefix length ${len} is over 32`);
        m = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      } else m = ipv4Num(t, ms);
      if (m === 0) return undefined;
      if (m === 0xffffffff) return { value: ipv4Text(v) };
      return { value: ipv4Text((v & m) >>> 0), mask: ipv4Text(m) };
    }
    case 'ipv6': {
      const v = ipv6Num(t, vs);
      if (ms === undefined) return { value: ipv6FromBigInt(v) };
      const all = (1n << 128n) - 1n;
      let m: bigint;
      if (/^\d{1,3}$/.test(ms)) {
        const len = Number(ms);
        if (len > 128) fail(t, `${t.key}: prefix length ${len} is over 128`);
        m = len === 0 ? 0n : (all << BigInt(128 - len)) & all;
      } else m = ipv6Num(t, ms);
      if (m === 0n) return undefined;
      if (m === all) return { value: ipv6FromBigInt(v) };
      return { value: ipv6FromBigInt(v & m), mask: ipv6FromBigInt(m) };
    }
  }
}

const RESERVED_PORTS: Record<string, number> = {
  in_port: OFPP.IN_PORT,
  table: OFPP.TABLE,
  normal: OFPP.NORMAL,
  flood: OFPP.FLOOD,
  all: OFPP.ALL,
  controller: OFPP.CONTROLLER,
  local: OFPP.LOCAL,
  any: OFPP.ANY,
  none: OFPP.ANY,
};

function parsePortNumber(t: Token, s: string, portNames?: PortNames): number {
  const named = portNames?.get(s.replace(/^"(.*)"$/, '$1'));
  if (named !== undefined) return named;
  const r = RESERVED_PORTS[s.toLowerCase()];
  if (r !== undefined) return r;
  if (/^(0x[0-9a-f]+|\d+)$/i.test(s)) return parseUint(t, s, 0xffffffff, 'port');
  return fail(t, `unknown port "${s}"${portNames ? '' : ' (port names need --names)'}`);
}

// ---------------------------------------------------------------- match

/** Match field names ovs-ofctl accepts (OVS names, OpenFlow names), to OXM fields. */
const FIELD_ALIASES: Record<string, OxmName> = {
  in_port: 'in_port',
  in_port_oxm: 'in_port',
  in_phy_port: 'in_phy_port',
  metadata: 'metadata',
  dl_src: 'eth_src',
  eth_src: 'eth_src',
  dl_dst: 'eth_dst',
  eth_dst: 'eth_dst',
  dl_type: 'eth_type',
  eth_type: 'eth_type',
  ip_dscp: 'ip_dscp',
  nw_ecn: 'ip_ecn',
  ip_ecn: 'ip_ecn',
  nw_proto: 'ip_proto',
  ip_proto: 'ip_proto',
  nw_src: 'ipv4_src',
  ip_src: 'ipv4_src',
  ipv4_src: 'ipv4_src',
  nw_dst: 'ipv4_dst',
  ip_dst: 'ipv4_dst',
  ipv4_dst: 'ipv4_dst',
  tcp_src: 'tcp_src',
  tcp_dst: 'tcp_dst',
  udp_src: 'udp_src',
  udp_dst: 'udp_dst',
  sctp_src: 'sctp_src',
  sctp_dst: 'sctp_dst',
  icmp_type: 'icmpv4_type',
  icmpv4_type: 'icmpv4_type',
  icmp_code: 'icmpv4_code',
  icmpv4_code: 'icmpv4_code',
  icmpv6_type: 'icmpv6_type',
  icmpv6_code: 'icmpv6_code',
  arp_op: 'arp_op',
  arp_spa: 'arp_spa',
  arp_tpa: 'arp_tpa',
  arp_sha: 'arp_sha',
  arp_tha: 'arp_tha',
  ipv6_src: 'ipv6_src',
  ipv6_dst: 'ipv6_dst',
  ipv6_label: 'ipv6_flabel',
  ipv6_flabel: 'ipv6_flabel',
  nd_target: 'ipv6_nd_target',
  ipv6_nd_target: 'ipv6_nd_target',
  nd_sll: 'ipv6_nd_sll',
  ipv6_nd_sll: 'ipv6_nd_sll',
  nd_tll: 'ipv6_nd_tll',
  ipv6_nd_tll: 'ipv6_nd_tll',
  mpls_label: 'mpls_label',
  mpls_tc: 'mpls_tc',
  mpls_bos: 'mpls_bos',
  pbb_isid: 'pbb_isid',
  tun_id: 'tunnel_id',
  tunnel_id: 'tunnel_id',
  ipv6_exthdr: 'ipv6_exthdr',
};

/** Protocol shorthands: eth_type and ip_proto. */
const SHORTHANDS: Record<string, [number, number?]> = {
  ip: [ETH_TYPE.IPV4],
  ipv4: [ETH_TYPE.IPV4],
  icmp: [ETH_TYPE.IPV4, IP_PROTO.ICMP],
  tcp: [ETH_TYPE.IPV4, IP_PROTO.TCP],
  udp: [ETH_TYPE.IPV4, IP_PROTO.UDP],
  sctp: [ETH_TYPE.IPV4, IP_PROTO.SCTP],
  ipv6: [ETH_TYPE.IPV6],
  ip6: [ETH_TYPE.IPV6],
  icmp6: [ETH_TYPE.IPV6, IP_PROTO.ICMPV6],
  icmpv6: [ETH_TYPE.IPV6, IP_PROTO.ICMPV6],
  tcp6: [ETH_TYPE.IPV6, IP_PROTO.TCP],
  udp6: [ETH_TYPE.IPV6, IP_PROTO.UDP],
  sctp6: [ETH_TYPE.IPV6, IP_PROTO.SCTP],
  arp: [ETH_TYPE.ARP],
  rarp: [0x8035],
  mpls: [ETH_TYPE.MPLS],
  mplsm: [ETH_TYPE.MPLS_MC],
};

const VLAN_FIELDS = new Set(['dl_vlan', 'dl_vlan_pcp', 'vlan_vid', 'vlan_pcp', 'vlan_tci']);
const TP_FIELDS = new Set(['tp_src', 'tp_dst']);

/** Is `key` a word the match part understands (a field, a shorthand)? */
export function isMatchKey(key: string): boolean {
  const k = key.toLowerCase();
  return k in FIELD_ALIASES || k in SHORTHANDS || VLAN_FIELDS.has(k) || TP_FIELDS.has(k) || k === 'nw_tos';
}

const num = (v: OxmValue | undefined): number => (typeof v === 'number' ? v : Number(v ?? 0));

/** Builds a match from the match tokens (shorthands and fields), checking prerequisites. */
export function parseMatchTokens(tokens: readonly Token[], opts: ParseOptions = {}): Match {
  const fields = new Map<OxmName, { f: OxmField; t: Token }>();
  const set = (t: Token, name: OxmName, value: OxmValue, mask?: OxmValue): void => {
    const prev = fields.get(name);
    if (prev !== undefined && (prev.f.value !== value || prev.f.mask !== mask)) fail(t, `${t.key} conflicts with "${prev.t.text}"`);
    fields.set(name, { f: mask === undefined ? { field: name, value } : { field: name, value, mask }, t });
  };
  // Pass 1: shorthands, dl_type and nw_proto decide how the rest is read.
  let ethType: number | undefined;
  let ipProto: number | undefined;
  for (const t of tokens) {
    const k = t.key.toLowerCase();
    const sh = SHORTHANDS[k];
    if (sh !== undefined) {
      if (t.value !== undefined) fail(t, `${k} takes no value`);
      set(t, 'eth_type', sh[0]);
      ethType = sh[0];
      if (sh[1] !== undefined) {
        set(t, 'ip_proto', sh[1]);
        ipProto = sh[1];
      }
    } else if (k === 'dl_type' || k === 'eth_type') ethType = parseUint(t, need(t), 0xffff);
  }
  const isArp = ethType === ETH_TYPE.ARP || ethType === 0x8035;
  for (const t of tokens) {
    const k = t.key.toLowerCase();
    if ((k === 'nw_proto' || k === 'ip_proto') && !isArp) ipProto = parseUint(t, need(t), 255);
  }
  const isV6 = ethType === ETH_TYPE.IPV6;
  // Pass 2: every field.
  let vid: { value: number; mask?: number; t: Token } | undefined;
  let pcp: { value: number; t: Token } | undefined;
  for (const t of tokens) {
    const k = t.key.toLowerCase();
    if (SHORTHANDS[k] !== undefined) continue;
    if (k === 'dl_vlan' || k === 'vlan_vid') {
      const s = need(t);
      const [v, m] = s.split('/');
      const value = parseUint(t, v, 0xfff);
      vid = m === undefined ? { value: value | 0x1000, t } : { value: (value & parseUint(t, m, 0xfff)) | 0x1000, mask: parseUint(t, m, 0xfff) | 0x1000, t };
      if (vid.mask === 0x1fff) delete vid.mask;
      continue;
    }
    if (k === 'dl_vlan_pcp' || k === 'vlan_pcp') {
      pcp = { value: parseUint(t, need(t), 7), t };
      continue;
    }
    if (k === 'vlan_tci') {
      const [v, m] = need(t).split('/');
      const tci = parseUint(t, v, 0xffff);
      const mask = m === undefined ? 0xffff : parseUint(t, m, 0xffff);
      const vm = mask & 0x1fff;
      if (vm !== 0) vid = vm === 0x1fff ? { value: tci & 0x1fff, t } : { value: tci & vm, mask: vm, t };
      if ((mask & 0xe000) === 0xe000) pcp = { value: tci >>> 13, t };
      else if ((mask & 0xe000) !== 0) fail(t, 'vlan_tci: the PCP bits must be matched all or none');
      continue;
    }
    if (k === 'nw_tos') {
      set(t, 'ip_dscp', parseUint(t, need(t), 255) >>> 2);
      continue;
    }
    let name: OxmName | undefined = FIELD_ALIASES[k];
    if (TP_FIELDS.has(k)) {
      const which = k === 'tp_src' ? 'src' : 'dst';
      if (ipProto === IP_PROTO.TCP) name = `tcp_${which}`;
      else if (ipProto === IP_PROTO.UDP) name = `udp_${which}`;
      else if (ipProto === IP_PROTO.SCTP) name = `sctp_${which}`;
      else if (ipProto === IP_PROTO.ICMP || ipProto === IP_PROTO.ICMPV6) name = isV6 ? (which === 'src' ? 'icmpv6_type' : 'icmpv6_code') : which === 'src' ? 'icmpv4_type' : 'icmpv4_code';
      else fail(t, `${k} needs tcp, udp or sctp (e.g. "tcp,${t.text}")`);
    } else if (isArp && (k === 'nw_src' || k === 'nw_dst' || k === 'nw_proto')) {
      name = k === 'nw_src' ? 'arp_spa' : k === 'nw_dst' ? 'arp_tpa' : 'arp_op';
    } else if (isV6 && (k === 'icmp_type' || k === 'icmp_code')) {
      name = k === 'icmp_type' ? 'icmpv6_type' : 'icmpv6_code';
    }
    if (name === undefined) fail(t, `unknown field "${t.key}"`);
    const d = oxmByName(name)!;
    const parsed = parseOxmValue(t, d, need(t), true, opts.portNames);
    if (parsed !== undefined) set(t, name, parsed.value, parsed.mask);
  }
  if (pcp !== undefined) {
    set(pcp.t, 'vlan_pcp', pcp.value);
    if (vid === undefined) vid = { value: 0x1000, mask: 0x1000, t: pcp.t };
    else if ((vid.value & 0x1000) === 0) fail(pcp.t, 'a VLAN priority needs a VLAN tag');
  }
  if (vid !== undefined) set(vid.t, 'vlan_vid', vid.value, vid.mask);
  // Prerequisites (OpenFlow 1.3 table 13): name what is missing.
  for (const { f, t } of fields.values()) {
    for (const p of oxmByName(f.field)!.prereqs) {
      if (p.values.length === 0) continue;
      const have = fields.get(p.field)?.f;
      const ok = have !== undefined && p.values.some((v) => (num(have.value) & (p.mask ?? 0xffffffff)) === v);
      if (!ok) fail(t, `${t.key} needs ${prereqHint(p.field, p.values)} in the match`);
    }
  }
  return [...fields.values()].map((x) => x.f).sort((a, b) => oxmByName(a.field)!.id - oxmByName(b.field)!.id);
}

function prereqHint(field: OxmName, values: readonly number[]): string {
  if (field === 'eth_type') {
    const names = values.map((v) => (v === ETH_TYPE.IPV4 ? 'ip' : v === ETH_TYPE.IPV6 ? 'ipv6' : v === ETH_TYPE.ARP ? 'arp' : v === ETH_TYPE.MPLS ? 'mpls' : v === ETH_TYPE.MPLS_MC ? 'mplsm' : `dl_type=0x${v.toString(16)}`));
    return names.join(' or ');
  }
  if (field === 'ip_proto') {
    const p = values[0];
    return p === IP_PROTO.TCP ? 'tcp or tcp6' : p === IP_PROTO.UDP ? 'udp or udp6' : p === IP_PROTO.SCTP ? 'sctp or sctp6' : p === IP_PROTO.ICMP ? 'icmp' : p === IP_PROTO.ICMPV6 ? 'icmp6' : `nw_proto=${p}`;
  }
  if (field === 'icmpv6_type') return `icmp6,icmp_type=${values.join(' or ')}`;
  return `${field}`;
}

// ---------------------------------------------------------------- actions

/** set_field target names: OVS's names, OpenFlow's and the match aliases. */
const SET_FIELD_TARGETS: Record<string, OxmName> = {
  ...FIELD_ALIASES,
  vlan_vid: 'vlan_vid',
  vlan_pcp: 'vlan_pcp',
  nw_ecn: 'ip_ecn',
};

const ETHERTYPE_ACTIONS: Record<string, number> = {
  push_vlan: OFPAT.PUSH_VLAN,
  push_mpls: OFPAT.PUSH_MPLS,
  pop_mpls: OFPAT.POP_MPLS,
  push_pbb: OFPAT.PUSH_PBB,
};

const BARE_ACTIONS: Record<string, number> = {
  copy_ttl_out: OFPAT.COPY_TTL_OUT,
  copy_ttl_in: OFPAT.COPY_TTL_IN,
  dec_mpls_ttl: OFPAT.DEC_MPLS_TTL,
  pop_vlan: OFPAT.POP_VLAN,
  strip_vlan: OFPAT.POP_VLAN,
  dec_ttl: OFPAT.DEC_NW_TTL,
  pop_pbb: OFPAT.POP_PBB,
};

/** mod_* aliases: the OXM field they set, and how their value becomes the field's. */
const MOD_ACTIONS: Record<string, { field: OxmName; convert?: (v: number) => number }> = {
  mod_dl_src: { field: 'eth_src' },
  mod_dl_dst: { field: 'eth_dst' },
  mod_nw_src: { field: 'ipv4_src' },
  mod_nw_dst: { field: 'ipv4_dst' },
  mod_nw_tos: { field: 'ip_dscp', convert: (v) => v >>> 2 },
  mod_nw_ecn: { field: 'ip_ecn' },
  mod_vlan_vid: { field: 'vlan_vid', convert: (v) => v | 0x1000 },
  mod_vlan_pcp: { field: 'vlan_pcp' },
};

function setField(t: Token, name: OxmName, value: string, opts: ParseOptions): Action {
  const d = oxmByName(name)!;
  if (!d.settable && name !== 'in_port' && name !== 'metadata') fail(t, `${name} cannot be set`);
  const p = parseOxmValue(t, d, value, true, opts.portNames);
  if (p === undefined) fail(t, `${t.key}: a zero mask sets nothing`);
  return { type: OFPAT.SET_FIELD, field: p.mask === undefined ? { field: name, value: p.value } : { field: name, value: p.value, mask: p.mask } };
}

/** One action (not an instruction). */
function parseAction(t: Token, opts: ParseOptions, ctx: { match?: Match }): Action {
  const k = t.key.toLowerCase();
  // A bare port number or reserved port name is an output.
  if (t.value === undefined) {
    if (/^\d+$/.test(t.key)) return { type: OFPAT.OUTPUT, port: parsePortNumber(t, t.key), maxLen: 0 };
    const bare = BARE_ACTIONS[k];
    if (bare !== undefined) return { type: bare } as Action;
    if (k === 'controller') return { type: OFPAT.OUTPUT, port: OFPP.CONTROLLER, maxLen: OFPCML.NO_BUFFER };
    const r = RESERVED_PORTS[k];
    if (r !== undefined && k !== 'any' && k !== 'none') return { type: OFPAT.OUTPUT, port: r, maxLen: 0 };
    if (opts.portNames?.has(t.key)) return { type: OFPAT.OUTPUT, port: opts.portNames.get(t.key)!, maxLen: 0 };
  }
  switch (k) {
    case 'output': {
      const port = parsePortNumber(t, need(t), opts.portNames);
      return { type: OFPAT.OUTPUT, port, maxLen: port === OFPP.CONTROLLER ? OFPCML.NO_BUFFER : 0 };
    }
    case 'controller': {
      const v = need(t);
      const m = /^(?:max_len=)?(\d+|0x[0-9a-f]+)$/i.exec(v);
      if (!m) fail(t, 'controller takes a length: controller:LEN or controller(max_len=LEN)');
      return { type: OFPAT.OUTPUT, port: OFPP.CONTROLLER, maxLen: parseUint(t, m[1], 0xffff) };
    }
    case 'group':
      return { type: OFPAT.GROUP, groupId: parseUint(t, need(t), OFPG.MAX) };
    case 'set_queue':
      return { type: OFPAT.SET_QUEUE, queueId: parseUint(t, need(t), 0xffffffff) };
    case 'set_mpls_ttl':
      return { type: OFPAT.SET_MPLS_TTL, mplsTtl: parseUint(t, need(t), 255) };
    case 'mod_nw_ttl':
    case 'set_nw_ttl':
      return { type: OFPAT.SET_NW_TTL, nwTtl: parseUint(t, need(t), 255) };
    case 'mod_tp_src':
    case 'mod_tp_dst': {
      const proto = ctx.match?.find((f) => f.field === 'ip_proto');
      const p = proto === undefined ? undefined : num((proto as OxmField).value);
      const prefix = p === IP_PROTO.TCP ? 'tcp' : p === IP_PROTO.UDP ? 'udp' : p === IP_PROTO.SCTP ? 'sctp' : fail(t, `${k} needs tcp, udp or sctp in the match`);
      return setField(t, `${prefix}_${k.slice(-3)}` as OxmName, need(t), opts);
    }
    case 'set_field': {
      const v = need(t);
      const arrow = v.lastIndexOf('->');
      if (arrow < 0) fail(t, 'set_field needs VALUE->FIELD');
      const target = v.slice(arrow + 2).toLowerCase();
      const name = SET_FIELD_TARGETS[target];
      if (name === undefined) fail(t, `set_field: unknown field "${v.slice(arrow + 2)}"`);
      if (name === 'vlan_vid') {
        // OpenFlow 1.3 carries OFPVID_PRESENT in the value, as OVS prints it.
        return { type: OFPAT.SET_FIELD, field: { field: 'vlan_vid', value: parseUint(t, v.slice(0, arrow), 0x1fff) } };
      }
      return setField(t, name, v.slice(0, arrow), opts);
    }
  }
  const eth = ETHERTYPE_ACTIONS[k];
  if (eth !== undefined) return { type: eth, ethertype: parseUint(t, need(t), 0xffff) } as Action;
  const mod = MOD_ACTIONS[k];
  if (mod !== undefined) {
    const d = oxmByName(mod.field)!;
    if (mod.convert !== undefined) return { type: OFPAT.SET_FIELD, field: { field: mod.field, value: mod.convert(parseUint(t, need(t), 0xffff)) } };
    return setField({ ...t }, d.name, need(t), opts);
  }
  if (BARE_ACTIONS[k] !== undefined) fail(t, `${k} takes no argument`);
  return fail(t, `unknown action "${t.key}"`);
}

/** An action list ("drop" or actions separated by commas), as in write_actions(…) or a bucket. */
export function parseActions(text: string, opts: ParseOptions = {}, offset = 0, ctx: { match?: Match } = {}): Action[] {
  const tokens = tokenize(text, offset);
  if (tokens.length === 1 && tokens[0].key.toLowerCase() === 'drop' && tokens[0].value === undefined) return [];
  return tokens.map((t) => {
    if (t.key.toLowerCase() === 'drop') fail(t, '"drop" must be the only action');
    return parseAction(t, opts, ctx);
  });
}

const INSTRUCTION_RANK: Record<number, [number, string]> = {
  [OFPIT.METER]: [0, 'meter'],
  [OFPIT.APPLY_ACTIONS]: [1, 'apply_actions'],
  [OFPIT.CLEAR_ACTIONS]: [2, 'clear_actions'],
  [OFPIT.WRITE_ACTIONS]: [3, 'write_actions'],
  [OFPIT.WRITE_METADATA]: [4, 'write_metadata'],
  [OFPIT.GOTO_TABLE]: [5, 'goto_table'],
};

/**
 * The `actions=` part of a flow: apply-actions and the instructions
 * (meter, clear_actions, write_actions(…), write_metadata, goto_table), in
 * the order OpenFlow executes them, as ovs-ofctl requires.
 */
export function parseInstructions(text: string, opts: ParseOptions = {}, offset = 0, ctx: { match?: Match } = {}): Instruction[] {
  const tokens = tokenize(text, offset);
  if (tokens.length === 0) throw new FlowSyntaxError('actions= needs at least one action (or "drop")', text, offset);
  const out: Instruction[] = [];
  let apply: Action[] | undefined;
  let last = -1;
  let lastTok: Token | undefined;
  const place = (t: Token, type: number): void => {
    const [rank, name] = INSTRUCTION_RANK[type];
    if (rank < last || (rank === last && type !== OFPIT.APPLY_ACTIONS)) {
      fail(t, rank === last ? `${name} given twice` : `${name} must come before ${INSTRUCTION_RANK[out.at(-1)?.type ?? OFPIT.GOTO_TABLE][1]} ("${lastTok?.text}"), in OpenFlow's execution order`);
    }
    last = rank;
    lastTok = t;
  };
  for (const t of tokens) {
    const k = t.key.toLowerCase();
    switch (k) {
      case 'drop':
        if (tokens.length !== 1) fail(t, '"drop" must be the only action');
        continue;
      case 'meter':
        place(t, OFPIT.METER);
        out.push({ type: OFPIT.METER, meterId: parseUint(t, need(t), OFPM.MAX) });
        continue;
      case 'clear_actions':
        if (t.value !== undefined) fail(t, 'clear_actions takes no argument');
        place(t, OFPIT.CLEAR_ACTIONS);
        out.push({ type: OFPIT.CLEAR_ACTIONS, actions: [] });
        continue;
      case 'write_actions':
        place(t, OFPIT.WRITE_ACTIONS);
        out.push({ type: OFPIT.WRITE_ACTIONS, actions: t.value === undefined || t.value === '' ? [] : parseActions(t.value, opts, t.valuePos, ctx) });
        continue;
      case 'write_metadata': {
        place(t, OFPIT.WRITE_METADATA);
        const [v, m] = need(t).split('/');
        out.push({ type: OFPIT.WRITE_METADATA, metadata: parseU64(t, v), metadataMask: m === undefined ? 0xffffffffffffffffn : parseU64(t, m) });
        continue;
      }
      case 'goto_table':
        place(t, OFPIT.GOTO_TABLE);
        out.push({ type: OFPIT.GOTO_TABLE, tableId: parseUint(t, need(t), OFPTT.MAX) });
        continue;
      default: {
        const a = parseAction(t, opts, ctx);
        if (apply === undefined) {
          place(t, OFPIT.APPLY_ACTIONS);
          apply = [];
          out.push({ type: OFPIT.APPLY_ACTIONS, actions: apply });
        } else if (last !== INSTRUCTION_RANK[OFPIT.APPLY_ACTIONS][0]) {
          fail(t, `apply actions must come before ${INSTRUCTION_RANK[out.at(-1)!.type][1]} ("${lastTok?.text}")`);
        }
        apply.push(a);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- flows

export type FlowCommand = 'add' | 'modify' | 'delete';

export interface ParseFlowOptions extends ParseOptions {
  command?: FlowCommand;
  strict?: boolean;
}

const FLAG_NAMES: Record<string, number> = {
  send_flow_rem: OFPFF.SEND_FLOW_REM,
  check_overlap: OFPFF.CHECK_OVERLAP,
  reset_counts: OFPFF.RESET_COUNTS,
  no_packet_counts: OFPFF.NO_PKT_COUNTS,
  no_byte_counts: OFPFF.NO_BYT_COUNTS,
};

/** Words of dump-flows output that ovs-ofctl ignores, so its output can be fed back. */
const IGNORED = new Set(['duration', 'n_packets', 'n_bytes', 'idle_age', 'hard_age']);

/** Where `actions=` starts (ofp_extract_actions): the index of "actions", and of its value. */
function findActions(s: string): { at: number; value: number } | undefined {
  const m = /(^|[,\s])(actions|apply_actions)\s*[=:]/i.exec(s);
  if (!m) return undefined;
  const at = m.index + m[1].length;
  return { at, value: m.index + m[0].length };
}

/**
 * A flow in ovs-ofctl's syntax into a FlowMod: `add` needs `actions=`;
 * `modify` too; `delete` must not have any. Tables default to 0 for add,
 * all tables for modify and delete, like ovs-ofctl.
 */
export function parseFlowMod(text: string, opts: ParseFlowOptions = {}): FlowMod {
  const command = opts.command ?? 'add';
  const act = findActions(text);
  const head = act === undefined ? text : text.slice(0, act.at);
  if (act === undefined && command !== 'delete') throw new FlowSyntaxError(`a flow to ${command} needs actions= (e.g. "actions=drop")`, text, 0);
  if (act !== undefined && command === 'delete') throw new FlowSyntaxError('del-flows takes no actions', text.slice(act.at), act.at);
  const fm: FlowMod = {
    type: OFPT.FLOW_MOD,
    xid: 0,
    cookie: 0n,
    cookieMask: 0n,
    tableId: command === 'add' ? 0 : OFPTT.ALL,
    command: command === 'add' ? OFPFC.ADD : command === 'modify' ? (opts.strict ? OFPFC.MODIFY_STRICT : OFPFC.MODIFY) : opts.strict ? OFPFC.DELETE_STRICT : OFPFC.DELETE,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 0x8000,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [],
    instructions: [],
  };
  const matchTokens: Token[] = [];
  for (const t of tokenize(head)) {
    const k = t.key.toLowerCase();
    if (IGNORED.has(k)) continue;
    if (FLAG_NAMES[k] !== undefined && t.value === undefined) {
      fm.flags |= FLAG_NAMES[k];
      continue;
    }
    switch (k) {
      case 'table': {
        const v = need(t);
        fm.tableId = v.toLowerCase() === 'all' || v === '255' ? OFPTT.ALL : parseUint(t, v, OFPTT.MAX);
        if (fm.tableId === OFPTT.ALL && command === 'add') fail(t, 'add-flow needs one table, not all');
        continue;
      }
      case 'priority':
        fm.priority = parseUint(t, need(t), 0xffff);
        continue;
      case 'idle_timeout':
        fm.idleTimeout = parseUint(t, need(t), 0xffff);
        continue;
      case 'hard_timeout':
        fm.hardTimeout = parseUint(t, need(t), 0xffff);
        continue;
      case 'importance':
        fail(t, 'importance needs OpenFlow 1.4');
        break;
      case 'out_port':
        fm.outPort = parsePortNumber(t, need(t), opts.portNames);
        continue;
      case 'out_group':
        fm.outGroup = need(t).toLowerCase() === 'any' ? OFPG.ANY : parseUint(t, need(t), OFPG.ANY);
        continue;
      case 'cookie': {
        const [v, m] = need(t).split('/');
        if (m !== undefined) {
          if (command === 'add') fail(t, 'flow additions cannot use a cookie mask');
          fm.cookie = parseU64(t, v);
          fm.cookieMask = parseU64(t, m);
        } else {
          if (command === 'delete') fail(t, `${v}: cannot set cookie (match cookies with cookie=VALUE/MASK)`);
          fm.cookie = parseU64(t, v);
        }
        continue;
      }
      default:
        if (!isMatchKey(k)) fail(t, `unknown field or keyword "${t.key}"`);
        matchTokens.push(t);
    }
  }
  fm.match = parseMatchTokens(matchTokens, opts);
  if (act !== undefined) fm.instructions = parseInstructions(text.slice(act.value), opts, act.value, { match: fm.match });
  return fm;
}

/** A dump-flows / del-flows filter: what selects flows. */
export interface FlowFilter {
  tableId: number;
  outPort: number;
  outGroup: number;
  cookie: bigint;
  cookieMask: bigint;
  /** Only with strict: the exact priority. */
  priority?: number;
  match: Match;
  strict: boolean;
}

/** ovs-ofctl's dump-flows filter syntax (`table=1,tcp,tp_dst=80`, `cookie=0x1/-1`, `out_port=2`). */
export function parseFlowFilter(text: string, opts: ParseOptions & { strict?: boolean } = {}): FlowFilter {
  const cleaned = text.replace(/(cookie=[^,\s/]+)\/-1\b/i, '$1/0xffffffffffffffff');
  const hasPriority = /(^|[,\s])priority\s*[=:]/i.test(cleaned);
  const fm = parseFlowMod(cleaned, { ...opts, command: 'delete' });
  return {
    tableId: fm.tableId,
    outPort: fm.outPort,
    outGroup: fm.outGroup,
    cookie: fm.cookie,
    cookieMask: fm.cookieMask,
    priority: opts.strict || hasPriority ? fm.priority : undefined,
    match: fm.match,
    strict: opts.strict ?? false,
  };
}

// ---------------------------------------------------------------- groups

const GROUP_TYPES: Record<string, number> = { all: OFPGT.ALL, select: OFPGT.SELECT, indirect: OFPGT.INDIRECT, ff: OFPGT.FF, fast_failover: OFPGT.FF };

/** ovs-ofctl's group syntax: `group_id=1,type=select,bucket=weight:1,actions=output:2,bucket=…`. */
export function parseGroupMod(text: string, opts: ParseOptions & { command?: 'add' | 'modify' | 'delete' } = {}): GroupMod {
  const command = opts.command ?? 'add';
  const gm: GroupMod = { type: OFPT.GROUP_MOD, xid: 0, command: command === 'add' ? OFPGC.ADD : command === 'modify' ? OFPGC.MODIFY : OFPGC.DELETE, groupType: OFPGT.ALL, groupId: OFPG.ALL, buckets: [] };
  const re = /(^|[,\s])bucket\s*[=:]/gi;
  const starts: { at: number; value: number }[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) starts.push({ at: m.index + m[1].length, value: m.index + m[0].length });
  const head = starts.length === 0 ? text : text.slice(0, starts[0].at);
  let haveId = false;
  let haveType = false;
  for (const t of tokenize(head)) {
    const k = t.key.toLowerCase();
    if (k === 'group_id') {
      const v = need(t).toLowerCase();
      gm.groupId = v === 'all' ? OFPG.ALL : v === 'any' ? OFPG.ANY : parseUint(t, v, OFPG.MAX);
      haveId = true;
    } else if (k === 'type') {
      const g = GROUP_TYPES[need(t).toLowerCase()];
      if (g === undefined) fail(t, `unknown group type "${t.value}" (all, select, indirect, ff)`);
      gm.groupType = g;
      haveType = true;
    } else if (k === 'command_bucket_id' || k === 'selection_method' || k === 'selection_method_param' || k === 'fields') {
      fail(t, `${k} needs OpenFlow 1.5`);
    } else if (['duration', 'ref_count', 'packet_count', 'byte_count'].includes(k)) continue;
    else fail(t, `unknown group keyword "${t.key}"`);
  }
  if (!haveId) throw new FlowSyntaxError('a group needs group_id=', text, 0);
  if (command === 'delete') {
    if (starts.length > 0) throw new FlowSyntaxError('del-groups takes no buckets', text.slice(starts[0].at), starts[0].at);
    return gm;
  }
  if (!haveType) throw new FlowSyntaxError('a group needs type= (all, select, indirect, ff)', text, 0);
  starts.forEach((s, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].at : text.length;
    const body = text.slice(s.value, end);
    const bucket: Bucket = { weight: gm.groupType === OFPGT.SELECT ? 1 : 0, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: [] };
    const act = findActions(body);
    const props = act === undefined ? body : body.slice(0, act.at);
    const rest: Token[] = [];
    for (const t of tokenize(props, s.value)) {
      const k = t.key.toLowerCase();
      if (k === 'weight') bucket.weight = parseUint(t, need(t), 0xffff);
      else if (k === 'watch_port') bucket.watchPort = parsePortNumber(t, need(t), opts.portNames);
      else if (k === 'watch_group') bucket.watchGroup = parseUint(t, need(t), OFPG.ANY);
      else if (k === 'bucket_id') fail(t, 'bucket_id needs OpenFlow 1.5');
      else rest.push(t);
    }
    if (act !== undefined && rest.length > 0) fail(rest[0], `unknown bucket keyword "${rest[0].key}"`);
    if (act !== undefined) bucket.actions = parseActions(body.slice(act.value), opts, s.value + act.value);
    else if (rest.length > 0) bucket.actions = rest.map((t) => parseAction(t, opts, {}));
    gm.buckets.push(bucket);
  });
  return gm;
}

// ---------------------------------------------------------------- meters

const METER_FLAGS: Record<string, number> = { kbps: OFPMF.KBPS, pktps: OFPMF.PKTPS, burst: OFPMF.BURST, stats: OFPMF.STATS };

/** ovs-ofctl's meter syntax: `meter=1,kbps,burst,stats,bands=type=drop,rate=1000,burst_size=100`. */
export function parseMeterMod(text: string, opts: { command?: 'add' | 'modify' | 'delete' } = {}): MeterMod {
  const command = opts.command ?? 'add';
  const mm: MeterMod = { type: OFPT.METER_MOD, xid: 0, command: command === 'add' ? OFPMC.ADD : command === 'modify' ? OFPMC.MODIFY : OFPMC.DELETE, flags: 0, meterId: OFPM.ALL, bands: [] };
  const b = /(^|[,\s])bands\s*[=:]/i.exec(text);
  const head = b === null ? text : text.slice(0, b.index + b[1].length);
  let haveId = false;
  for (const t of tokenize(head)) {
    const k = t.key.toLowerCase();
    if (k === 'meter') {
      const v = need(t).toLowerCase();
      mm.meterId = v === 'all' ? OFPM.ALL : v === 'controller' ? OFPM.CONTROLLER : v === 'slowpath' ? OFPM.SLOWPATH : parseUint(t, v, OFPM.MAX);
      haveId = true;
    } else if (METER_FLAGS[k] !== undefined && t.value === undefined) mm.flags |= METER_FLAGS[k];
    else fail(t, `unknown meter keyword "${t.key}"`);
  }
  if (!haveId) throw new FlowSyntaxError('a meter needs meter=ID', text, 0);
  if (command === 'delete') {
    if (b !== null) throw new FlowSyntaxError('del-meters takes no bands', text.slice(b.index), b.index);
    return mm;
  }
  if (command === 'add' && (mm.flags & (OFPMF.KBPS | OFPMF.PKTPS)) === 0) mm.flags |= OFPMF.KBPS;
  if (b === null) throw new FlowSyntaxError('a meter needs bands=type=drop,rate=N', text, 0);
  let band: { type: number; rate: number; burstSize: number; precLevel: number; t: Token } | undefined;
  const flush = (): void => {
    if (band === undefined) return;
    if (band.rate === 0) fail(band.t, 'a band needs rate=N');
    mm.bands.push(band.type === OFPMBT.DSCP_REMARK ? { type: OFPMBT.DSCP_REMARK, rate: band.rate, burstSize: band.burstSize, precLevel: band.precLevel } : ({ type: OFPMBT.DROP, rate: band.rate, burstSize: band.burstSize } as MeterBand));
  };
  const start = b.index + b[0].length;
  for (const t of tokenize(text.slice(start), start)) {
    const k = t.key.toLowerCase();
    if (k === 'type') {
      flush();
      const v = need(t).toLowerCase();
      if (v !== 'drop' && v !== 'dscp_remark') fail(t, `unknown band type "${t.value}" (drop, dscp_remark)`);
      band = { type: v === 'drop' ? OFPMBT.DROP : OFPMBT.DSCP_REMARK, rate: 0, burstSize: 0, precLevel: 0, t };
      continue;
    }
    if (band === undefined) fail(t, 'each band starts with type=');
    if (k === 'rate') band.rate = parseUint(t, need(t), 0xffffffff);
    else if (k === 'burst_size') band.burstSize = parseUint(t, need(t), 0xffffffff);
    else if (k === 'prec_level' && band.type === OFPMBT.DSCP_REMARK) band.precLevel = parseUint(t, need(t), 255);
    else fail(t, `unknown band keyword "${t.key}"`);
  }
  flush();
  return mm;
}
