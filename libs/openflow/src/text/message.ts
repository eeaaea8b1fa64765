/**
 * One line per message, in the spirit of `ovs-ofctl ofp-print` (Open
 * vSwitch 3.1): "OFPT_FLOW_MOD (OF1.3) (xid=0x0): ADD priority=123,… actions=…".
 * Where ofp-print prints several lines, the same facts are joined on one.
 * Multipart messages are named as OVS names them ("OFPST_FLOW request").
 * Nothing a message holds is silently left out: unknown parts print as
 * numbers or byte counts.
 */
import {
  OFP_NO_BUFFER,
  OFPC,
  OFPC_FRAG,
  OFPC_INVALID_TTL_TO_CONTROLLER,
  OFPCR_ROLE,
  OFPFC,
  OFPFF,
  OFPG,
  OFPGT,
  OFPHET,
  OFPM,
  OFPMBT,
  OFPMF,
  OFPMP,
  OFPMPF,
  OFPP,
  OFPPC,
  OFPPF,
  OFPPR,
  OFPPS,
  OFPQ_ALL,
  OFPQT,
  OFPR,
  OFPRR,
  OFPT,
  OFPTFPT,
  OFPTT,
} from '../constants.js';
import { errorCodeName, errorTypeName, OFPET } from '../errors.js';
import type { OfpMessage } from '../messages.js';
import type { GroupMod, Bucket } from '../messages/group-mod.js';
import type { MeterBand, MeterMod } from '../messages/meter-mod.js';
import type { MultipartReply, MultipartRequest } from '../messages/multipart.js';
import type { Port } from '../messages/port.js';
import type { QueueProperty } from '../messages/queue-config.js';
import type { TableFeatures } from '../messages/table-features.js';
import { formatActions, formatFlow, formatInstructions, formatMatch, formatPort } from './flow.js';

/** Every message the formatters know, whether or not the registry's union lists it yet. */
export type AnyMessage = OfpMessage | GroupMod | MeterMod | MultipartRequest | MultipartReply;

type Named = Record<string, number>;

function nameOf(table: Named, v: number): string | undefined {
  return Object.keys(table).find((k) => table[k] === v);
}

/** "FLOW_MOD", or the number for a type the spec does not define. */
export function typeName(type: number): string {
  return nameOf(OFPT, type) ?? String(type);
}

/** "FLOW", "PORT_DESC"…, or the number. */
export function multipartTypeName(mpType: number): string {
  return nameOf(OFPMP, mpType) ?? String(mpType);
}

/** OVS's names for the multipart types in ofp-print ("OFPST_PORT", "ONFST_…" aside). */
const OVS_MP_NAMES: Record<number, string> = {
  [OFPMP.DESC]: 'DESC',
  [OFPMP.FLOW]: 'FLOW',
  [OFPMP.AGGREGATE]: 'AGGREGATE',
  [OFPMP.TABLE]: 'TABLE',
  [OFPMP.PORT_STATS]: 'PORT',
  [OFPMP.QUEUE]: 'QUEUE',
  [OFPMP.GROUP]: 'GROUP',
  [OFPMP.GROUP_DESC]: 'GROUP_DESC',
  [OFPMP.GROUP_FEATURES]: 'GROUP_FEATURES',
  [OFPMP.METER]: 'METER',
  [OFPMP.METER_CONFIG]: 'METER_CONFIG',
  [OFPMP.METER_FEATURES]: 'METER_FEATURES',
  [OFPMP.TABLE_FEATURES]: 'TABLE_FEATURES',
  [OFPMP.PORT_DESC]: 'PORT_DESC',
  [OFPMP.EXPERIMENTER]: 'EXPERIMENTER',
};

const VERSION_NAMES: Record<number, string> = { 1: 'OF1.0', 2: 'OF1.1', 3: 'OF1.2', 4: 'OF1.3', 5: 'OF1.4', 6: 'OF1.5', 7: 'OF1.6' };

function versionName(v: number): string {
  return VERSION_NAMES[v] ?? `OF 0x${v.toString(16).padStart(2, '0')}`;
}

function hex(v: number | bigint, digits = 0): string {
  return `0x${v.toString(16).padStart(digits, '0')}`;
}

/** Names of the bits set in `v`, then any unknown remainder in hex. */
function bits(table: Named, v: number, sep = ' ', zero = '0'): string {
  const out: string[] = [];
  let rest = v >>> 0;
  for (const [name, bit] of Object.entries(table)) {
    if (bit !== 0 && (rest & bit) === bit) {
      out.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0) out.push(hex(rest));
  return out.length === 0 ? zero : out.join(sep);
}

/** "3.048825s": OVS prints nanoseconds without trailing zeros. */
function duration(sec: number, nsec: number): string {
  if (nsec === 0) return `${sec}s`;
  return `${sec}.${String(nsec).padStart(9, '0').replace(/0+$/, '')}s`;
}

/** A short view of opaque bytes: their count and the first 16 in hex. */
function bytesSummary(b: Buffer, limit = 16): string {
  if (b.length === 0) return '0 bytes';
  const shown = b.subarray(0, limit).toString('hex');
  return `${b.length} bytes ${shown}${b.length > limit ? '…' : ''}`;
}

function table(t: number): string {
  return t === OFPTT.ALL ? 'ALL' : String(t);
}

function group(g: number): string {
  return g === OFPG.ALL ? 'ALL' : g === OFPG.ANY ? 'ANY' : String(g);
}

function meter(m: number): string {
  return m === OFPM.ALL ? 'all' : m === OFPM.CONTROLLER ? 'controller' : m === OFPM.SLOWPATH ? 'slowpath' : String(m);
}

function bufferId(b: number): string {
  return hex(b, 8);
}

// ------------------------------------------------------------- pieces

const PPF_NAMES: Named = {
  '10MB-HD': OFPPF['10MB_HD'],
  '10MB-FD': OFPPF['10MB_FD'],
  '100MB-HD': OFPPF['100MB_HD'],
  '100MB-FD': OFPPF['100MB_FD'],
  '1GB-HD': OFPPF['1GB_HD'],
  '1GB-FD': OFPPF['1GB_FD'],
  '10GB-FD': OFPPF['10GB_FD'],
  '40GB-FD': OFPPF['40GB_FD'],
  '100GB-FD': OFPPF['100GB_FD'],
  '1TB-FD': OFPPF['1TB_FD'],
  OTHER: OFPPF.OTHER,
  COPPER: OFPPF.COPPER,
  FIBER: OFPPF.FIBER,
  AUTO_NEG: OFPPF.AUTONEG,
  AUTO_PAUSE: OFPPF.PAUSE,
  AUTO_PAUSE_ASYM: OFPPF.PAUSE_ASYM,
};

function formatPortDesc(p: Port): string {
  const parts = [
    `${formatPort(p.portNo)}(${p.name}): addr:${p.hwAddr}`,
    `config:${bits(OFPPC, p.config, '|')}`,
    `state:${bits(OFPPS, p.state, '|')}`,
  ];
  for (const [k, v] of [
    ['current', p.curr],
    ['advertised', p.advertised],
    ['supported', p.supported],
    ['peer', p.peer],
  ] as const) {
    if (v !== 0) parts.push(`${k}:${bits(PPF_NAMES, v, '|')}`);
  }
  parts.push(`speed:${p.currSpeed / 1000}/${p.maxSpeed / 1000}Mbps`);
  return parts.join(' ');
}

function formatBucket(b: Bucket): string {
  const parts: string[] = [];
  if (b.weight !== 0) parts.push(`weight:${b.weight}`);
  if (b.watchPort !== OFPP.ANY) parts.push(`watch_port:${formatPort(b.watchPort)}`);
  if (b.watchGroup !== OFPG.ANY) parts.push(`watch_group:${group(b.watchGroup)}`);
  parts.push(`actions=${formatActions(b.actions)}`);
  return `bucket=${parts.join(',')}`;
}

const GROUP_TYPES: Record<number, string> = { [OFPGT.ALL]: 'all', [OFPGT.SELECT]: 'select', [OFPGT.INDIRECT]: 'indirect', [OFPGT.FF]: 'fast_failover' };

function formatGroup(groupId: number, groupType: number, buckets: readonly Bucket[]): string {
  return [`group_id=${group(groupId)}`, `type=${GROUP_TYPES[groupType] ?? groupType}`, ...buckets.map(formatBucket)].join(',');
}

const METER_FLAGS: Named = { kbps: OFPMF.KBPS, pktps: OFPMF.PKTPS, burst: OFPMF.BURST, stats: OFPMF.STATS };

function formatBand(b: MeterBand): string {
  switch (b.type) {
    case OFPMBT.DROP:
      return `type=drop rate=${b.rate} burst_size=${b.burstSize}`;
    case OFPMBT.DSCP_REMARK:
      return `type=dscp_remark rate=${b.rate} burst_size=${b.burstSize} prec_level=${b.precLevel}`;
    case OFPMBT.EXPERIMENTER:
      return `type=experimenter rate=${b.rate} burst_size=${b.burstSize} experimenter=${hex(b.experimenter)} data=${bytesSummary(b.data)}`;
    default: {
      const o = b as { type: number; rate: number; burstSize: number };
      return `type=${o.type} rate=${o.rate} burst_size=${o.burstSize}`;
    }
  }
}

function formatMeter(meterId: number, flags: number, bands: readonly MeterBand[]): string {
  const flagText = bits(METER_FLAGS, flags, ' ', '');
  return [`meter=${meter(meterId)}`, flagText, `bands=[${bands.map(formatBand).join(', ')}]`].filter((p) => p !== '').join(' ');
}

function formatQueueProperty(p: QueueProperty): string {
  if (p.property === OFPQT.MIN_RATE || p.property === OFPQT.MAX_RATE) {
    const r = (p as { rate: number }).rate;
    const name = p.property === OFPQT.MIN_RATE ? 'min_rate' : 'max_rate';
    return r > 1000 ? `${name}:disabled` : `${name}:${r / 10}%`;
  }
  if ('experimenter' in p) return `experimenter:${hex(p.experimenter)}(${bytesSummary(p.data)})`;
  return `property ${p.property}(${bytesSummary((p as { data: Buffer }).data)})`;
}

const ROLE_NAMES: Record<number, string> = {
  [OFPCR_ROLE.NOCHANGE]: 'nochange',
  [OFPCR_ROLE.EQUAL]: 'equal',
  [OFPCR_ROLE.MASTER]: 'primary',
  [OFPCR_ROLE.SLAVE]: 'secondary',
};

const FLOW_MOD_COMMANDS: Record<number, string> = {
  [OFPFC.ADD]: 'ADD',
  [OFPFC.MODIFY]: 'MOD',
  [OFPFC.MODIFY_STRICT]: 'MOD_STRICT',
  [OFPFC.DELETE]: 'DEL',
  [OFPFC.DELETE_STRICT]: 'DEL_STRICT',
};

const FLOW_MOD_FLAGS: Named = {
  send_flow_rem: OFPFF.SEND_FLOW_REM,
  check_overlap: OFPFF.CHECK_OVERLAP,
  reset_counts: OFPFF.RESET_COUNTS,
  no_packet_counts: OFPFF.NO_PKT_COUNTS,
  no_byte_counts: OFPFF.NO_BYT_COUNTS,
};

const PACKET_IN_REASONS: Record<number, string> = { [OFPR.NO_MATCH]: 'no_match', [OFPR.ACTION]: 'action', [OFPR.INVALID_TTL]: 'invalid_ttl' };
const FLOW_REMOVED_REASONS: Record<number, string> = {
  [OFPRR.IDLE_TIMEOUT]: 'idle',
  [OFPRR.HARD_TIMEOUT]: 'hard',
  [OFPRR.DELETE]: 'delete',
  [OFPRR.GROUP_DELETE]: 'group_delete',
  [OFPRR.METER_DELETE]: 'meter_delete',
};
const PORT_REASONS: Record<number, string> = { [OFPPR.ADD]: 'ADD', [OFPPR.DELETE]: 'DEL', [OFPPR.MODIFY]: 'MOD' };

/** The bit positions of the async masks, named as OVS names them. */
const ASYNC_BITS: readonly [string, readonly string[]][] = [
  ['PACKET_IN', ['no_match', 'action', 'invalid_ttl']],
  ['PORT_STATUS', ['add', 'delete', 'modify']],
  ['FLOW_REMOVED', ['idle', 'hard', 'delete', 'group_delete', 'meter_delete']],
];

function asyncMask(mask: number, names: readonly string[]): string {
  const out: string[] = [];
  for (let i = 0; i < 32; i++) if ((mask >>> i) & 1) out.push(names[i] ?? `bit${i}`);
  return out.length === 0 ? '(off)' : out.join('|');
}

/** The start of an error's data: the offending message's header when it looks like one. */
function errorData(errorType: number, data: Buffer): string {
  if (errorType === OFPET.HELLO_FAILED) return `"${data.toString('latin1').replace(/[^\x20-\x7e]/g, '.')}"`;
  if (data.length >= 8) {
    const version = data[0];
    const type = data[1];
    const length = data.readUInt16BE(2);
    const xid = data.readUInt32BE(4);
    if (version >= 1 && version <= 6 && type <= OFPT.METER_MOD && length >= 8) {
      return `OFPT_${typeName(type)} (${versionName(version)}) (xid=${hex(xid)}) length=${length}, ${data.length} bytes included`;
    }
  }
  return bytesSummary(data);
}

function formatTableFeatures(t: TableFeatures): string {
  const props = t.properties.map((p) => nameOf(OFPTFPT, p.type)?.toLowerCase() ?? String(p.type));
  return `table ${t.tableId} ("${t.name}") metadata_match=${hex(t.metadataMatch)} metadata_write=${hex(t.metadataWrite)} config=${t.config} max_entries=${t.maxEntries} properties=${props.join(',') || 'none'}`;
}

function formatMultipartRequest(m: MultipartRequest): string {
  const b = m.body;
  switch (b.mpType) {
    case OFPMP.FLOW:
    case OFPMP.AGGREGATE: {
      const parts = [] as string[];
      if (b.tableId !== OFPTT.ALL) parts.push(`table=${table(b.tableId)}`);
      if (b.outPort !== OFPP.ANY) parts.push(`out_port=${formatPort(b.outPort)}`);
      if (b.outGroup !== OFPG.ANY) parts.push(`out_group=${group(b.outGroup)}`);
      if (b.cookieMask !== 0n) parts.push(`cookie=${hex(b.cookie)}/${hex(b.cookieMask)}`);
      const match = formatMatch(b.match);
      if (match !== '') parts.push(match);
      return parts.join(' ');
    }
    case OFPMP.PORT_STATS:
      return `port_no=${formatPort(b.portNo)}`;
    case OFPMP.QUEUE:
      return `port=${formatPort(b.portNo)} queue=${b.queueId === OFPQ_ALL ? 'ALL' : b.queueId}`;
    case OFPMP.GROUP:
      return `group_id=${group(b.groupId)}`;
    case OFPMP.METER:
    case OFPMP.METER_CONFIG:
      return `meter=${meter(b.meterId)}`;
    case OFPMP.TABLE_FEATURES:
      return b.entries.length === 0 ? 'query' : `${b.entries.length} tables: ${b.entries.map(formatTableFeatures).join('; ')}`;
    case OFPMP.EXPERIMENTER:
      return `experimenter=${hex(b.experimenter)} exp_type=${b.expType} data=${bytesSummary(b.data)}`;
    default:
      return '';
  }
}

function formatMultipartReply(m: MultipartReply): string {
  const b = m.body;
  switch (b.mpType) {
    case OFPMP.DESC:
      return `mfr_desc="${b.mfrDesc}" hw_desc="${b.hwDesc}" sw_desc="${b.swDesc}" serial_num="${b.serialNum}" dp_desc="${b.dpDesc}"`;
    case OFPMP.FLOW:
      return `${b.entries.length} flows: ${b.entries
        .map((f) => {
          const head = `cookie=${hex(f.cookie)}, duration=${duration(f.durationSec, f.durationNsec)}, table=${f.tableId}, n_packets=${f.packetCount}, n_bytes=${f.byteCount}, `;
          const timeouts = `${f.idleTimeout ? `idle_timeout=${f.idleTimeout}, ` : ''}${f.hardTimeout ? `hard_timeout=${f.hardTimeout}, ` : ''}`;
          const flags = f.flags ? `${bits(FLOW_MOD_FLAGS, f.flags, ' ', '')} ` : '';
          const match = formatFlow(f.priority, f.match);
          return `${head}${timeouts}${flags}${match}${match === '' ? '' : ' '}actions=${formatInstructions(f.instructions)}`;
        })
        .join('; ')}`;
    case OFPMP.AGGREGATE:
      return `packet_count=${b.packetCount} byte_count=${b.byteCount} flow_count=${b.flowCount}`;
    case OFPMP.TABLE:
      return `${b.entries.length} tables: ${b.entries
        .map((t) => `table ${t.tableId}: active=${t.activeCount}, lookup=${t.lookupCount}, matched=${t.matchedCount}`)
        .join('; ')}`;
    case OFPMP.PORT_STATS:
      return `${b.entries.length} ports: ${b.entries
        .map(
          (p) =>
            `port ${formatPort(p.portNo)}: rx pkts=${p.rxPackets}, bytes=${p.rxBytes}, drop=${p.rxDropped}, errs=${p.rxErrors}, frame=${p.rxFrameErr}, over=${p.rxOverErr}, crc=${p.rxCrcErr} tx pkts=${p.txPackets}, bytes=${p.txBytes}, drop=${p.txDropped}, errs=${p.txErrors}, coll=${p.collisions} duration=${duration(p.durationSec, p.durationNsec)}`,
        )
        .join('; ')}`;
    case OFPMP.QUEUE:
      return `${b.entries.length} queues: ${b.entries
        .map((q) => `port ${formatPort(q.portNo)} queue ${q.queueId}: bytes=${q.txBytes}, pkts=${q.txPackets}, errors=${q.txErrors}, duration=${duration(q.durationSec, q.durationNsec)}`)
        .join('; ')}`;
    case OFPMP.GROUP:
      return `${b.entries.length} groups: ${b.entries
        .map(
          (g) =>
            `group_id=${group(g.groupId)},duration=${duration(g.durationSec, g.durationNsec)},ref_count=${g.refCount},packet_count=${g.packetCount},byte_count=${g.byteCount}${g.bucketStats
              .map((c, i) => `,bucket${i}:packet_count=${c.packetCount},byte_count=${c.byteCount}`)
              .join('')}`,
        )
        .join('; ')}`;
    case OFPMP.GROUP_DESC:
      return `${b.entries.length} groups: ${b.entries.map((g) => formatGroup(g.groupId, g.groupType, g.buckets)).join('; ')}`;
    case OFPMP.GROUP_FEATURES:
      return `types=${hex(b.types)} capabilities=${hex(b.capabilities)} ${['all', 'select', 'indirect', 'fast_failover']
        .map((t, i) => `${t}:max_groups=${b.maxGroups[i]},actions=${hex(b.actions[i], 8)}`)
        .join(' ')}`;
    case OFPMP.METER:
      return `${b.entries.length} meters: ${b.entries
        .map(
          (s) =>
            `meter:${meter(s.meterId)} flow_count:${s.flowCount} packet_in_count:${s.packetInCount} byte_in_count:${s.byteInCount} duration:${duration(s.durationSec, s.durationNsec)} bands:${s.bandStats
              .map((c, i) => ` ${i}: packet_count:${c.packetBandCount} byte_count:${c.byteBandCount}`)
              .join('')}`,
        )
        .join('; ')}`;
    case OFPMP.METER_CONFIG:
      return `${b.entries.length} meters: ${b.entries.map((c) => formatMeter(c.meterId, c.flags, c.bands)).join('; ')}`;
    case OFPMP.METER_FEATURES:
      return `max_meter:${b.maxMeter} max_bands:${b.maxBands} max_color:${b.maxColor} band_types:${bits({ drop: 1 << OFPMBT.DROP, dscp_remark: 1 << OFPMBT.DSCP_REMARK }, b.bandTypes, ' ', '0')} capabilities:${bits(METER_FLAGS, b.capabilities, ' ', '0')}`;
    case OFPMP.TABLE_FEATURES:
      return `${b.entries.length} tables: ${b.entries.map(formatTableFeatures).join('; ')}`;
    case OFPMP.PORT_DESC:
      return `${b.entries.length} ports: ${b.entries.map(formatPortDesc).join('; ')}`;
    case OFPMP.EXPERIMENTER:
      return `experimenter=${hex(b.experimenter)} exp_type=${b.expType} data=${bytesSummary(b.data)}`;
    default:
      return '';
  }
}

function formatFlowMod(m: Extract<AnyMessage, { type: (typeof OFPT)['FLOW_MOD'] }>): string {
  const parts: string[] = [FLOW_MOD_COMMANDS[m.command] ?? `cmd:${m.command}`];
  if (m.tableId !== 0) parts.push(`table:${m.tableId}`);
  const match = formatFlow(m.priority, m.match);
  if (match !== '') parts.push(match);
  // As OVS decodes it: an ADD's cookie is the new cookie; other commands match on cookie/mask.
  if (m.command === OFPFC.ADD) {
    if (m.cookie !== 0n && m.cookie !== 0xffffffffffffffffn) parts.push(`cookie:${hex(m.cookie)}`);
  } else if (m.cookieMask !== 0n) {
    parts.push(`cookie:${hex(m.cookie)}/${hex(m.cookieMask)}`);
  }
  if (m.idleTimeout !== 0) parts.push(`idle:${m.idleTimeout}`);
  if (m.hardTimeout !== 0) parts.push(`hard:${m.hardTimeout}`);
  if (m.bufferId !== OFP_NO_BUFFER) parts.push(`buf:${hex(m.bufferId)}`);
  if (m.outPort !== OFPP.ANY) parts.push(`out_port:${formatPort(m.outPort)}`);
  // OVS 3.1 does not print out_group (a DELETE's filter) in ofp-print; it is in toJson.
  if (m.flags !== 0) parts.push(bits(FLOW_MOD_FLAGS, m.flags).replace(/0x([0-9a-f]+)$/, 'flags:0x$1'));
  parts.push(`actions=${formatInstructions(m.instructions)}`);
  return parts.join(' ');
}

const FRAG_NAMES: Record<number, string> = { [OFPC_FRAG.NORMAL]: 'normal', [OFPC_FRAG.DROP]: 'drop', [OFPC_FRAG.REASM]: 'reassemble', 3: 'nx-match' };

const CAPABILITIES: Named = {
  FLOW_STATS: OFPC.FLOW_STATS,
  TABLE_STATS: OFPC.TABLE_STATS,
  PORT_STATS: OFPC.PORT_STATS,
  GROUP_STATS: OFPC.GROUP_STATS,
  IP_REASM: OFPC.IP_REASM,
  QUEUE_STATS: OFPC.QUEUE_STATS,
  PORT_BLOCKED: OFPC.PORT_BLOCKED,
};

/** The part of the line after "(xid=…):". */
function body(msg: AnyMessage): string {
  switch (msg.type) {
    case OFPT.HELLO: {
      const parts = msg.elements.map((e) => {
        if (e.type === OFPHET.VERSIONBITMAP && 'bitmaps' in e) {
          const versions: string[] = [];
          e.bitmaps.forEach((word, i) => {
            for (let bit = 0; bit < 32; bit++) if ((word >>> bit) & 1) versions.push(hex(32 * i + bit, 2));
          });
          return `version bitmap: ${versions.join(', ')}`;
        }
        return `element type=${e.type} (${bytesSummary((e as { data: Buffer }).data)})`;
      });
      return parts.join(' ');
    }
    case OFPT.ERROR:
      if ('experimenter' in msg) {
        return `OFPET_EXPERIMENTER exp_type=${msg.expType} experimenter=${hex(msg.experimenter)} data=${bytesSummary(msg.data)}`;
      }
      return `${errorCodeName(msg.errorType, msg.code)} (${errorTypeName(msg.errorType)}, code ${msg.code}) data: ${errorData(msg.errorType, msg.data)}`;
    case OFPT.ECHO_REQUEST:
    case OFPT.ECHO_REPLY:
      return msg.data.length === 0 ? '0 bytes of payload' : `${msg.data.length} bytes of payload ${msg.data.subarray(0, 16).toString('hex')}${msg.data.length > 16 ? '…' : ''}`;
    case OFPT.EXPERIMENTER:
      return `experimenter=${hex(msg.experimenter)} exp_type=${msg.expType} data=${bytesSummary(msg.data)}`;
    case OFPT.FEATURES_REQUEST:
    case OFPT.GET_CONFIG_REQUEST:
    case OFPT.BARRIER_REQUEST:
    case OFPT.BARRIER_REPLY:
    case OFPT.GET_ASYNC_REQUEST:
      return '';
    case OFPT.FEATURES_REPLY: {
      const aux = msg.auxiliaryId !== 0 ? `, auxiliary_id:${msg.auxiliaryId}` : '';
      const reserved = msg.reserved !== 0 ? ` reserved:${hex(msg.reserved)}` : '';
      return `dpid:${msg.datapathId.toString(16).padStart(16, '0')} n_tables:${msg.nTables}, n_buffers:${msg.nBuffers}${aux} capabilities: ${bits(CAPABILITIES, msg.capabilities)}${reserved}`;
    }
    case OFPT.GET_CONFIG_REPLY:
    case OFPT.SET_CONFIG: {
      const extra = msg.flags & OFPC_INVALID_TTL_TO_CONTROLLER ? ' invalid_ttl_to_controller' : '';
      const unknown = msg.flags & ~(OFPC_FRAG.MASK | OFPC_INVALID_TTL_TO_CONTROLLER) ? ` flags:${hex(msg.flags)}` : '';
      return `frags=${FRAG_NAMES[msg.flags & OFPC_FRAG.MASK]}${extra}${unknown} miss_send_len=${msg.missSendLen}`;
    }
    case OFPT.PACKET_IN: {
      const match = formatMatch(msg.match);
      const buffer = msg.bufferId === OFP_NO_BUFFER ? '' : ` buffer=${bufferId(msg.bufferId)}`;
      return `table_id=${msg.tableId} cookie=${hex(msg.cookie)} total_len=${msg.totalLen} ${match === '' ? '' : `${match} `}(via ${PACKET_IN_REASONS[msg.reason] ?? msg.reason}) data_len=${msg.data.length}${buffer}`;
    }
    case OFPT.FLOW_REMOVED: {
      const parts = [formatFlow(msg.priority, msg.match), `reason=${FLOW_REMOVED_REASONS[msg.reason] ?? msg.reason}`, `table_id=${msg.tableId}`];
      if (msg.cookie !== 0n) parts.push(`cookie:${hex(msg.cookie)}`);
      parts.push(`duration${duration(msg.durationSec, msg.durationNsec)}`);
      if (msg.idleTimeout) parts.push(`idle${msg.idleTimeout}`);
      if (msg.hardTimeout) parts.push(`hard${msg.hardTimeout}`);
      parts.push(`pkts${msg.packetCount}`, `bytes${msg.byteCount}`);
      return parts.filter((p) => p !== '').join(' ');
    }
    case OFPT.PORT_STATUS:
      return `${PORT_REASONS[msg.reason] ?? `reason ${msg.reason}`}: ${formatPortDesc(msg.desc)}`;
    case OFPT.PACKET_OUT: {
      const buffer = msg.bufferId === OFP_NO_BUFFER ? '' : ` buffer=${bufferId(msg.bufferId)}`;
      return `in_port=${formatPort(msg.inPort)} actions=${formatActions(msg.actions)}${buffer} data_len=${msg.data.length}`;
    }
    case OFPT.FLOW_MOD:
      return formatFlowMod(msg);
    case OFPT.GROUP_MOD: {
      const cmd = ['ADD', 'MOD', 'DEL'][msg.command] ?? `cmd:${msg.command}`;
      return `${cmd} ${formatGroup(msg.groupId, msg.groupType, msg.buckets)}`;
    }
    case OFPT.PORT_MOD:
      return `port: ${formatPort(msg.portNo)}: addr:${msg.hwAddr} config: ${bits(OFPPC, msg.config)} mask: ${bits(OFPPC, msg.mask)} advertise: ${bits(PPF_NAMES, msg.advertise, ' ', 'UNCHANGED')}`;
    case OFPT.TABLE_MOD:
      return `table_id: ${msg.tableId === OFPTT.ALL ? 'ALL_TABLES' : msg.tableId}${msg.config !== 0 ? ` config: ${hex(msg.config)}` : ''}`;
    case OFPT.MULTIPART_REQUEST:
      return formatMultipartRequest(msg);
    case OFPT.MULTIPART_REPLY:
      return formatMultipartReply(msg);
    case OFPT.QUEUE_GET_CONFIG_REQUEST:
      return `port=${formatPort(msg.port)}`;
    case OFPT.QUEUE_GET_CONFIG_REPLY:
      return `port=${formatPort(msg.port)} ${msg.queues.length} queues: ${msg.queues
        .map((q) => `queue ${q.queueId} on port ${formatPort(q.port)}: ${q.properties.map(formatQueueProperty).join(' ') || 'no properties'}`)
        .join('; ')}`;
    case OFPT.ROLE_REQUEST:
    case OFPT.ROLE_REPLY:
      return `role=${ROLE_NAMES[msg.role] ?? msg.role} generation_id=${msg.generationId}`;
    case OFPT.GET_ASYNC_REPLY:
    case OFPT.SET_ASYNC: {
      const masks = [msg.packetInMask, msg.portStatusMask, msg.flowRemovedMask];
      return ['primary', 'secondary']
        .map((role, r) => `${role}: ${ASYNC_BITS.map(([name, names], i) => `${name}=${asyncMask(masks[i][r], names)}`).join(' ')}`)
        .join(' ');
    }
    case OFPT.METER_MOD: {
      const cmd = ['ADD', 'MOD', 'DEL'][msg.command] ?? `cmd:${msg.command}`;
      return `${cmd} ${formatMeter(msg.meterId, msg.flags, msg.bands)}`;
    }
    default: {
      const unknown = msg as { type: number };
      return `message type ${unknown.type}`;
    }
  }
}

/** "OFPT_FLOW_MOD (OF1.3) (xid=0x0)", or "OFPST_FLOW request (OF1.3) (xid=0x0)" for multipart. */
function header(msg: AnyMessage): string {
  const version = versionName(msg.type === OFPT.HELLO ? msg.version : 4);
  let name = `OFPT_${typeName(msg.type)}`;
  if (msg.type === OFPT.MULTIPART_REQUEST || msg.type === OFPT.MULTIPART_REPLY) {
    const mp = OVS_MP_NAMES[msg.body.mpType] ?? String(msg.body.mpType);
    name = `OFPST_${mp} ${msg.type === OFPT.MULTIPART_REQUEST ? 'request' : 'reply'}`;
  }
  const flags =
    (msg.type === OFPT.MULTIPART_REQUEST || msg.type === OFPT.MULTIPART_REPLY) && msg.flags !== 0
      ? ` flags=[${msg.flags & OFPMPF.REQ_MORE ? 'more' : ''}${msg.flags & ~OFPMPF.REQ_MORE ? `${msg.flags & OFPMPF.REQ_MORE ? ',' : ''}${hex(msg.flags & ~OFPMPF.REQ_MORE)}` : ''}]`
      : '';
  return `${name} (${version}) (xid=${hex(msg.xid)}):${flags}`;
}

/** One line describing the message, never a newline in it. */
export function formatMessage(msg: AnyMessage): string {
  const b = body(msg);
  return `${header(msg)}${b === '' ? '' : ` ${b}`}`.replace(/[\r\n]+/g, ' ');
}
