/**
 * What `ovs-ofctl -O OpenFlow13 dump-*` prints, from codec objects: flow
 * lines (lib/ofp-flow.c ofputil_flow_stats_format), group descriptions,
 * meter configurations, table stats (with OVS's "ditto" runs), port stats
 * and port descriptions, as Open vSwitch 3.1 prints them. Also the inverse
 * of toJson for flows, groups and meters (what the REST API returns), the
 * add-flow text of a FlowMod (for round trips), and dump-flows filtering.
 */
import type { Action } from '../actions.js';
import { OFPAT, OFPFF, OFPG, OFPGT, OFPIT, OFPMBT, OFPMF, OFPP, OFPPC, OFPPF, OFPPS, OFPTT } from '../constants.js';
import type { Instruction } from '../instructions.js';
import type { FlowMod } from '../messages/flow-mod.js';
import type { Bucket } from '../messages/group-mod.js';
import type { MeterBand } from '../messages/meter-mod.js';
import type { FlowStats } from '../messages/multipart.js';
import { isOpaque, oxmByName, type Match, type OxmField, type OxmTlv } from '../oxm.js';
import { formatActions, formatFlow, formatInstructions, formatPort } from './flow.js';
import type { FlowFilter } from './parse.js';

// ---------------------------------------------------------------- JSON back to objects

type Obj = Record<string, unknown>;

const ACTION_TYPES = OFPAT as Record<string, number>;
const INSTRUCTION_TYPES = OFPIT as Record<string, number>;

function typeNumber(table: Record<string, number>, v: unknown): number {
  if (typeof v === 'number') return v;
  const n = table[String(v)];
  if (n === undefined) throw new Error(`unknown type ${String(v)}`);
  return n;
}

const big = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(v as string | number));

/** One OXM TLV from its JSON form. */
export function oxmFromJson(o: unknown): OxmTlv {
  const x = o as Obj;
  if (typeof x.field === 'number') {
    return { oxmClass: Number(x.oxmClass), field: x.field, hasMask: Boolean(x.hasMask), payload: Buffer.from(String(x.payload ?? ''), 'hex') };
  }
  const d = oxmByName(String(x.field));
  if (d === undefined) throw new Error(`unknown OXM field ${String(x.field)}`);
  const conv = (v: unknown) => (d.kind === 'u64' ? big(v) : d.kind === 'uint' ? Number(v) : String(v));
  const f: OxmField = { field: d.name, value: conv(x.value) };
  if (x.mask !== undefined && x.mask !== null) f.mask = conv(x.mask);
  return f;
}

export function actionFromJson(o: unknown): Action {
  const a = { ...(o as Obj) };
  a.type = typeNumber(ACTION_TYPES, a.type);
  if (a.type === OFPAT.SET_FIELD) a.field = oxmFromJson(a.field);
  if (a.type === OFPAT.EXPERIMENTER) a.data = Buffer.from(String(a.data ?? ''), 'hex');
  return a as unknown as Action;
}

export function instructionFromJson(o: unknown): Instruction {
  const i = { ...(o as Obj) };
  i.type = typeNumber(INSTRUCTION_TYPES, i.type);
  if (Array.isArray(i.actions)) i.actions = i.actions.map(actionFromJson);
  else if (i.type === OFPIT.APPLY_ACTIONS || i.type === OFPIT.WRITE_ACTIONS || i.type === OFPIT.CLEAR_ACTIONS) i.actions = [];
  if (i.type === OFPIT.WRITE_METADATA) {
    i.metadata = big(i.metadata);
    i.metadataMask = big(i.metadataMask);
  }
  if (i.type === OFPIT.EXPERIMENTER) i.data = Buffer.from(String(i.data ?? ''), 'hex');
  return i as unknown as Instruction;
}

/** A flow-stats entry from its JSON form (missing counters and durations are 0). */
export function flowStatsFromJson(o: unknown): FlowStats {
  const f = o as Obj;
  return {
    tableId: Number(f.tableId ?? 0),
    durationSec: Number(f.durationSec ?? 0),
    durationNsec: Number(f.durationNsec ?? 0),
    priority: Number(f.priority ?? 0x8000),
    idleTimeout: Number(f.idleTimeout ?? 0),
    hardTimeout: Number(f.hardTimeout ?? 0),
    flags: Number(f.flags ?? 0),
    cookie: big(f.cookie ?? 0),
    packetCount: big(f.packetCount ?? 0),
    byteCount: big(f.byteCount ?? 0),
    match: ((f.match as unknown[]) ?? []).map(oxmFromJson),
    instructions: ((f.instructions as unknown[]) ?? []).map(instructionFromJson),
  };
}

export interface GroupDesc {
  groupId: number;
  groupType: number;
  buckets: Bucket[];
}

export function groupFromJson(o: unknown): GroupDesc {
  const g = o as Obj;
  return {
    groupId: Number(g.groupId),
    groupType: Number(g.groupType),
    buckets: ((g.buckets as Obj[]) ?? []).map((b) => ({
      weight: Number(b.weight ?? 0),
      watchPort: Number(b.watchPort ?? OFPP.ANY),
      watchGroup: Number(b.watchGroup ?? OFPG.ANY),
      actions: ((b.actions as unknown[]) ?? []).map(actionFromJson),
    })),
  };
}

export interface MeterConfig {
  meterId: number;
  flags: number;
  bands: MeterBand[];
}

export function meterFromJson(o: unknown): MeterConfig {
  const m = o as Obj;
  return {
    meterId: Number(m.meterId),
    flags: Number(m.flags ?? 0),
    bands: ((m.bands as Obj[]) ?? []).map((b) => {
      const band = { ...b, type: typeNumber(OFPMBT as Record<string, number>, b.type) };
      if (band.type === OFPMBT.EXPERIMENTER) (band as Obj).data = Buffer.from(String(b.data ?? ''), 'hex');
      return band as unknown as MeterBand;
    }),
  };
}

// ---------------------------------------------------------------- flows

/** ofp_print_duration: seconds, then nanoseconds without trailing zeros. */
export function formatDuration(sec: number, nsec: number): string {
  if (nsec === 0) return `${sec}s`;
  return `${sec}.${String(nsec).padStart(9, '0').replace(/0+$/, '')}s`;
}

const FLAG_ORDER: [number, string][] = [
  [OFPFF.SEND_FLOW_REM, 'send_flow_rem'],
  [OFPFF.CHECK_OVERLAP, 'check_overlap'],
  [OFPFF.RESET_COUNTS, 'reset_counts'],
  [OFPFF.NO_PKT_COUNTS, 'no_packet_counts'],
  [OFPFF.NO_BYT_COUNTS, 'no_byte_counts'],
];

/** Port number → name, for --names. */
export type PortNameMap = ReadonlyMap<number, string>;

/** Shows ports by name (--names) where the text names a port by number. */
function withNames(text: string, names: PortNameMap | undefined): string {
  if (names === undefined || names.size === 0) return text;
  const sub = (n: string) => names.get(Number(n)) ?? n;
  return text
    .replace(/(^|,)(in_port=)(\d+)/g, (_m, a: string, b: string, n: string) => a + b + sub(n))
    .replace(/(output:|watch_port:)(\d+)/g, (_m, a: string, n: string) => a + sub(n));
}

export interface FlowLineOptions {
  /** n_packets, n_bytes, duration (default true). */
  stats?: boolean;
  names?: PortNameMap;
}

/** One dump-flows line, without ovs-ofctl's leading space. */
export function formatFlowStats(fs: FlowStats, opts: FlowLineOptions = {}): string {
  const stats = opts.stats ?? true;
  let s = '';
  if (stats || fs.cookie !== 0n) s += `cookie=0x${fs.cookie.toString(16)}, `;
  if (stats) s += `duration=${formatDuration(fs.durationSec, fs.durationNsec)}, `;
  if (stats || fs.tableId !== 0) s += `table=${fs.tableId}, `;
  if (stats) s += `n_packets=${fs.packetCount}, n_bytes=${fs.byteCount}, `;
  if (fs.idleTimeout) s += `idle_timeout=${fs.idleTimeout}, `;
  if (fs.hardTimeout) s += `hard_timeout=${fs.hardTimeout}, `;
  for (const [bit, name] of FLAG_ORDER) if (fs.flags & bit) s += `${name} `;
  const match = withNames(formatFlow(fs.priority, fs.match), opts.names);
  if (match !== '') s += `${match} `;
  return `${s}actions=${withNames(formatInstructions(fs.instructions), opts.names)}`;
}

/** A FlowMod as add-flow text (`table=1,cookie=0x5,idle_timeout=10,priority=…,match,actions=…`). */
export function formatFlowMod(fm: FlowMod): string {
  const parts: string[] = [];
  if (fm.tableId !== 0 && fm.tableId !== OFPTT.ALL) parts.push(`table=${fm.tableId}`);
  if (fm.cookieMask !== 0n) parts.push(`cookie=0x${fm.cookie.toString(16)}/0x${fm.cookieMask.toString(16)}`);
  else if (fm.cookie !== 0n) parts.push(`cookie=0x${fm.cookie.toString(16)}`);
  if (fm.idleTimeout) parts.push(`idle_timeout=${fm.idleTimeout}`);
  if (fm.hardTimeout) parts.push(`hard_timeout=${fm.hardTimeout}`);
  for (const [bit, name] of FLAG_ORDER) if (fm.flags & bit) parts.push(name);
  if (fm.outPort !== OFPP.ANY) parts.push(`out_port=${formatPort(fm.outPort)}`);
  if (fm.outGroup !== OFPG.ANY) parts.push(`out_group=${fm.outGroup}`);
  const match = formatFlow(fm.priority, fm.match);
  if (match !== '') parts.push(match);
  if (fm.command <= 2) parts.push(`actions=${formatInstructions(fm.instructions)}`);
  return parts.join(',');
}

// ---------------------------------------------------------------- filters

const ONES = (bits: number) => (1n << BigInt(bits)) - 1n;

function bitsOf(f: OxmField): { v: bigint; m: bigint } {
  const d = oxmByName(f.field)!;
  const width = d.width * 8;
  const conv = (x: unknown): bigint => {
    switch (d.kind) {
      case 'mac':
        return BigInt(`0x${String(x).replace(/:/g, '')}`);
      case 'ipv4':
        return BigInt(String(x).split('.').reduce((a, p) => a * 256 + Number(p), 0));
      case 'ipv6': {
        const s = String(x);
        const halves = s.split('::');
        const g = (p: string) => (p === '' ? [] : p.split(':').map((h) => parseInt(h, 16)));
        const head = g(halves[0]);
        const tail = halves.length > 1 ? g(halves[1]) : [];
        return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail].reduce((a, h) => (a << 16n) | BigInt(h), 0n);
      }
      default:
        return BigInt(x as number | bigint);
    }
  };
  const m = f.mask === undefined ? ONES(width) : conv(f.mask);
  return { v: conv(f.value) & m, m };
}

function fieldsOf(match: Match): Map<string, { v: bigint; m: bigint }> {
  const out = new Map<string, { v: bigint; m: bigint }>();
  for (const t of match) {
    if (isOpaque(t)) out.set(`opaque:${t.oxmClass}:${t.field}`, { v: BigInt(`0x0${t.payload.toString('hex')}`), m: t.hasMask ? 1n : 0n });
    else out.set(t.field, bitsOf(t));
  }
  return out;
}

/** Two matches are the same set of fields and (masked) values, whatever their order. */
export function sameMatch(a: Match, b: Match): boolean {
  const fa = fieldsOf(a);
  const fb = fieldsOf(b);
  if (fa.size !== fb.size) return false;
  for (const [k, x] of fa) {
    const y = fb.get(k);
    if (y === undefined || y.v !== x.v || y.m !== x.m) return false;
  }
  return true;
}

function outputsTo(instructions: readonly Instruction[], pred: (a: Action) => boolean): boolean {
  return instructions.some((i) => (i.type === OFPIT.APPLY_ACTIONS || i.type === OFPIT.WRITE_ACTIONS) && i.actions.some(pred));
}

/**
 * Does a flow pass an ovs-ofctl filter? Non-strict: the flow's match is at
 * least as specific as the filter's (OpenFlow's flow-stats rule); strict:
 * the same priority and match.
 */
export function flowMatchesFilter(fs: FlowStats, f: FlowFilter): boolean {
  if (f.tableId !== OFPTT.ALL && fs.tableId !== f.tableId) return false;
  if ((fs.cookie & f.cookieMask) !== (f.cookie & f.cookieMask)) return false;
  if (f.outPort !== OFPP.ANY && !outputsTo(fs.instructions, (a) => a.type === OFPAT.OUTPUT && a.port === f.outPort)) return false;
  if (f.outGroup !== OFPG.ANY && !outputsTo(fs.instructions, (a) => a.type === OFPAT.GROUP && a.groupId === f.outGroup)) return false;
  if (f.strict) return fs.priority === f.priority && sameMatch(fs.match, f.match);
  if (f.priority !== undefined && fs.priority !== f.priority) return false;
  const flow = fieldsOf(fs.match);
  for (const [k, want] of fieldsOf(f.match)) {
    const have = flow.get(k);
    if (have === undefined) return false;
    if ((have.m & want.m) !== want.m) return false;
    if ((have.v & want.m) !== want.v) return false;
  }
  return true;
}

// ---------------------------------------------------------------- groups and meters

const GROUP_TYPE_NAMES: Record<number, string> = { [OFPGT.ALL]: 'all', [OFPGT.SELECT]: 'select', [OFPGT.INDIRECT]: 'indirect', [OFPGT.FF]: 'ff' };

/** ofputil_bucket_format for OpenFlow 1.3. */
export function formatBucket(b: Bucket, groupType: number, names?: PortNameMap): string {
  let s = 'bucket=';
  if (groupType === OFPGT.SELECT && b.weight !== 1) s += `weight:${b.weight},`;
  if (b.watchPort !== OFPP.ANY) s += `watch_port:${names?.get(b.watchPort) ?? formatPort(b.watchPort)},`;
  if (b.watchGroup !== OFPG.ANY) s += `watch_group:${b.watchGroup},`;
  return `${s}actions=${withNames(formatActions(b.actions), names)}`;
}

/** A dump-groups line (without the leading space): `group_id=1,type=select,bucket=…`. */
export function formatGroupDesc(g: GroupDesc, names?: PortNameMap): string {
  return [`group_id=${g.groupId}`, `type=${GROUP_TYPE_NAMES[g.groupType] ?? g.groupType}`, ...g.buckets.map((b) => formatBucket(b, g.groupType, names))].join(',');
}

const METER_FLAG_ORDER: [number, string][] = [
  [OFPMF.KBPS, 'kbps'],
  [OFPMF.PKTPS, 'pktps'],
  [OFPMF.BURST, 'burst'],
  [OFPMF.STATS, 'stats'],
];

/** ofputil_format_meter_config: `meter=1 kbps burst bands=` then one line per band. */
export function formatMeterConfig(m: MeterConfig): string[] {
  let head = `meter=${m.meterId} `;
  for (const [bit, name] of METER_FLAG_ORDER) if (m.flags & bit) head += `${name} `;
  head += 'bands=';
  const bands = m.bands.map((b) => {
    const type = b.type === OFPMBT.DROP ? 'drop' : b.type === OFPMBT.DSCP_REMARK ? 'dscp_remark' : String(b.type);
    let s = `type=${type} rate=${b.rate}`;
    if (m.flags & OFPMF.BURST) s += ` burst_size=${b.burstSize}`;
    if (b.type === OFPMBT.DSCP_REMARK) s += ` prec_level=${b.precLevel}`;
    return s;
  });
  return [head, ...bands];
}

// ---------------------------------------------------------------- tables and ports

export interface TableStatsLike {
  tableId: number;
  activeCount: number;
  lookupCount: bigint | string | number;
  matchedCount: bigint | string | number;
}

/** The body of dump-tables: each table, or "ditto" for runs of tables like the one before. */
export function formatTableStats(tables: readonly TableStatsLike[]): string[] {
  const blocks: string[][] = [];
  let run: [number, number] | undefined;
  const flush = () => {
    if (run === undefined) return;
    blocks.push([run[0] === run[1] ? `  table ${run[0]}: ditto` : `  tables ${run[0]}...${run[1]}: ditto`]);
    run = undefined;
  };
  let prev: TableStatsLike | undefined;
  for (const t of tables) {
    const same = prev !== undefined && prev.activeCount === t.activeCount && String(prev.lookupCount) === String(t.lookupCount) && String(prev.matchedCount) === String(t.matchedCount);
    if (same) {
      run = run === undefined ? [t.tableId, t.tableId] : [run[0], t.tableId];
    } else {
      flush();
      blocks.push([`  table ${t.tableId}:`, `    active=${t.activeCount}, lookup=${t.lookupCount}, matched=${t.matchedCount}`]);
    }
    prev = t;
  }
  flush();
  return blocks.flatMap((b, i) => (i === 0 ? b : ['', ...b]));
}

export interface PortDescLike {
  portNo: number;
  hwAddr: string;
  name: string;
  config: number;
  state: number;
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  currSpeed: number;
  maxSpeed: number;
}

const PPC: [number, string][] = [
  [OFPPC.PORT_DOWN, 'PORT_DOWN'],
  [OFPPC.NO_RECV, 'NO_RECV'],
  [OFPPC.NO_FWD, 'NO_FWD'],
  [OFPPC.NO_PACKET_IN, 'NO_PACKET_IN'],
];
const PPS: [number, string][] = [
  [OFPPS.LINK_DOWN, 'LINK_DOWN'],
  [OFPPS.BLOCKED, 'BLOCKED'],
  [OFPPS.LIVE, 'LIVE'],
];
const PPF: [number, string][] = [
  [OFPPF['10MB_HD'], '10MB-HD'],
  [OFPPF['10MB_FD'], '10MB-FD'],
  [OFPPF['100MB_HD'], '100MB-HD'],
  [OFPPF['100MB_FD'], '100MB-FD'],
  [OFPPF['1GB_HD'], '1GB-HD'],
  [OFPPF['1GB_FD'], '1GB-FD'],
  [OFPPF['10GB_FD'], '10GB-FD'],
  [OFPPF['40GB_FD'], '40GB-FD'],
  [OFPPF['100GB_FD'], '100GB-FD'],
  [OFPPF['1TB_FD'], '1TB-FD'],
  [OFPPF.OTHER, 'OTHER'],
  [OFPPF.COPPER, 'COPPER'],
  [OFPPF.FIBER, 'FIBER'],
  [OFPPF.AUTONEG, 'AUTO_NEG'],
  [OFPPF.PAUSE, 'AUTO_PAUSE'],
  [OFPPF.PAUSE_ASYM, 'AUTO_PAUSE_ASYM'],
];

function bitNames(v: number, table: [number, string][]): string {
  const out = table.filter(([b]) => v & b).map(([, n]) => n);
  return out.length === 0 ? '0' : out.join(' ');
}

/** ofputil_phy_port_format lines for one port (OpenFlow 1.3). */
export function formatPortDesc(p: PortDescLike): string[] {
  const out = [` ${formatPort(p.portNo)}(${p.name}): addr:${p.hwAddr}`, `     config:     ${bitNames(p.config, PPC)}`, `     state:      ${bitNames(p.state, PPS)}`];
  if (p.curr) out.push(`     current:    ${bitNames(p.curr, PPF)}`);
  if (p.advertised) out.push(`     advertised: ${bitNames(p.advertised, PPF)}`);
  if (p.supported) out.push(`     supported:  ${bitNames(p.supported, PPF)}`);
  if (p.peer) out.push(`     peer:       ${bitNames(p.peer, PPF)}`);
  out.push(`     speed: ${Math.floor(p.currSpeed / 1000)} Mbps now, ${Math.floor(p.maxSpeed / 1000)} Mbps max`);
  return out;
}

export interface PortStatsLike {
  portNo: number;
  rxPackets?: bigint | string | number;
  rxBytes?: bigint | string | number;
  rxDropped?: bigint | string | number;
  rxErrors?: bigint | string | number;
  rxFrameErr?: bigint | string | number;
  rxOverErr?: bigint | string | number;
  rxCrcErr?: bigint | string | number;
  txPackets?: bigint | string | number;
  txBytes?: bigint | string | number;
  txDropped?: bigint | string | number;
  txErrors?: bigint | string | number;
  collisions?: bigint | string | number;
  durationSec?: number;
  durationNsec?: number;
}

/** ofputil_port_stats_format: counters OVS does not have (or nicvisor was not given) print as "?". */
export function formatPortStats(p: PortStatsLike): string[] {
  const c = (v: bigint | string | number | undefined) => (v === undefined || String(v) === '18446744073709551615' ? '?' : String(v));
  const name = formatPort(p.portNo);
  const out = [
    `  port ${name.length < 2 ? ` ${name}` : name}: rx pkts=${c(p.rxPackets)}, bytes=${c(p.rxBytes)}, drop=${c(p.rxDropped)}, errs=${c(p.rxErrors)}, frame=${c(p.rxFrameErr)}, over=${c(p.rxOverErr)}, crc=${c(p.rxCrcErr)}`,
    `           tx pkts=${c(p.txPackets)}, bytes=${c(p.txBytes)}, drop=${c(p.txDropped)}, errs=${c(p.txErrors)}, coll=${c(p.collisions)}`,
  ];
  if (p.durationSec !== undefined) out.push(`           duration=${formatDuration(p.durationSec, p.durationNsec ?? 0)}`);
  return out;
}

