/**
 * One emulated switch instance of the smart-NIC: its ports, flow tables,
 * group and meter tables, switch configuration and the datapath pipeline,
 * plus the OpenFlow connections (agent sessions) controlling it.
 *
 * Everything is synchronous: a frame given to receiveFrame has gone through
 * the whole pipeline (and its output through onTransmit listeners) when the
 * call returns, and a message given to a session has been fully handled
 * (replies sent) when receive returns. Time comes from the Clock; timeouts
 * run when tick() is called.
 */
import {
  AggregateStats,
  Desc,
  FlowMod,
  FlowRemoved,
  FlowStats,
  FlowStatsRequest,
  GroupMod,
  MeterMod,
  OFP_NO_BUFFER,
  OFPAT,
  OFPBRC,
  OFPC,
  OFPC_FRAG,
  OFPC_INVALID_TTL_TO_CONTROLLER,
  OFPCR_ROLE,
  OFPET,
  OFPFC,
  OFPFF,
  OFPFMFC,
  OFPIT,
  OFPP,
  OFPPC,
  OFPPF,
  OFPPMFC,
  OFPPR,
  OFPPS,
  OFPQOFC,
  OFPRR,
  OFPRRFC,
  OFPSCFC,
  OFPT,
  OFPTMFC,
  OFPTT,
  OfpError,
  OfpMessage,
  PacketIn,
  PacketOut,
  PortStatus,
  PortMod,
  PortStats,
  SwitchFeatures,
  TableFeatures,
  TableStats,
  encodeMessage,
  decodeInstructions,
  decodeMatch,
  Instruction,
  Match,
  OFP_VERSION,
  Reader,
  OFPTFPT,
  OFPXMC,
  OXM_FIELDS,
} from '@nicvisor/openflow';
import { compileMatchScratch, copyCompiled } from './classifier.js';
import { compileWireMatch } from './fast-flowmod.js';
import { DEFAULT_FLOW_CACHE_SIZE, FlowCache, FlowCacheStats } from './flow-cache.js';
import { Clock, splitDuration, SystemClock } from './clock.js';
import { FlowEntry, FlowModOutcome, FlowModRequest, FlowTable, RemovedFlow } from './flow-table.js';
import { GroupTable } from './groups.js';
import { MeterTable } from './meters.js';
import { W } from './key.js';
import { parseInto, parsePacket, ParsedPacket } from './packet.js';
import { packetInMatch, Pipeline, PipelineHost, validateActions, validateInstructions, ValidationEnv } from './pipeline.js';
import { Agent, AgentSession, AsyncKind } from './agent.js';

export type { AgentSession } from './agent.js';

export interface PortConfig {
  portNo: number;
  name?: string;
  /** "aa:bb:cc:dd:ee:ff"; default: a locally administered address made of the datapath id and port number. */
  hwAddr?: string;
  /** kb/s; default 10 Gb/s. */
  currSpeed?: number;
  maxSpeed?: number;
}

export interface InstanceOptions {
  datapathId: bigint;
  ports: PortConfig[];
  /** Flow tables, 1..254; default 64. */
  nTables?: number;
  clock?: Clock;
  /** Flow entries per table at most (OFPFMFC_TABLE_FULL beyond); default unlimited. */
  maxEntriesPerTable?: number;
  /**
   * The datapath flow cache (a megaflow cache, flow-cache.ts): true (the
   * default) or a maximum number of megaflows; false looks every packet up
   * in every table it visits. It changes speed only, never behaviour.
   */
  flowCache?: boolean | number;
}

/** ofp_port. */
type Port = PortStatus['desc'];

/** A port with its counters. */
interface PortState {
  desc: Port;
  createdAt: number;
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxDropped: number;
  txDropped: number;
}

const DEFAULT_TABLES = 64;
const DEFAULT_SPEED = 10_000_000;
/** Minimum Ethernet frame without FCS. */
const MIN_FRAME = 60;
const MAX_ENTRIES_ADVERTISED = 0xffffffff;
const PORT_CONFIG_BITS = OFPPC.PORT_DOWN | OFPPC.NO_RECV | OFPPC.NO_FWD | OFPPC.NO_PACKET_IN;

/** The OFPPF_* rate bit of a speed in kb/s. */
function speedFeature(kbps: number): number {
  switch (kbps) {
    case 10_000:
      return OFPPF['10MB_FD'];
    case 100_000:
      return OFPPF['100MB_FD'];
    case 1_000_000:
      return OFPPF['1GB_FD'];
    case 10_000_000:
      return OFPPF['10GB_FD'];
    case 40_000_000:
      return OFPPF['40GB_FD'];
    case 100_000_000:
      return OFPPF['100GB_FD'];
    case 1_000_000_000:
      return OFPPF['1TB_FD'];
    default:
      return OFPPF.OTHER;
  }
}

function defaultHwAddr(dpid: bigint, portNo: number): string {
  const b = [0x02, Number((dpid >> 16n) & 0xffn), Number((dpid >> 8n) & 0xffn), Number(dpid & 0xffn), (portNo >>> 8) & 0xff, portNo & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** The action types the NIC runs, as table-features ids. */
const ACTION_TYPES = [
  OFPAT.OUTPUT,
  OFPAT.COPY_TTL_OUT,
  OFPAT.COPY_TTL_IN,
  OFPAT.SET_MPLS_TTL,
  OFPAT.DEC_MPLS_TTL,
  OFPAT.PUSH_VLAN,
  OFPAT.POP_VLAN,
  OFPAT.PUSH_MPLS,
  OFPAT.POP_MPLS,
  OFPAT.SET_QUEUE,
  OFPAT.GROUP,
  OFPAT.SET_NW_TTL,
  OFPAT.DEC_NW_TTL,
  OFPAT.SET_FIELD,
  OFPAT.PUSH_PBB,
  OFPAT.POP_PBB,
];


export class SwitchInstance {
  readonly datapathId: bigint;
  readonly clock: Clock;
  readonly nTables: number;
  /** @internal the pipeline's and agent's */
  readonly tables: FlowTable[];
  /** @internal */
  readonly groups: GroupTable;
  /** @internal */
  readonly meters: MeterTable;
  /** OFPC_* config flags (SET_CONFIG) and miss_send_len. */
  configFlags = 0;
  missSendLen = 128;
  /** The last exception a session's message handling caught that was not an OfpError (a bug), for tests and logs. */
  lastInternalError: unknown = undefined;
  private readonly tableConfig: number[];
  private readonly ports = new Map<number, PortState>();
  /** Transmit listeners, replaced (never changed in place) on subscribe/unsubscribe: a frame goes to those there when its output began. */
  private listeners: ReadonlyArray<(port: number, frame: Buffer) => void> = [];
  private readonly sessions = new Set<Agent>();
  /** The generation id of the last MASTER/SLAVE role request (§6.3.6), once there has been one. */
  private generationId: bigint | undefined;
  private readonly pipeline: Pipeline;
  private readonly env: ValidationEnv;
  /** The ParsedPacket receiveFrame reuses, null while it is in use. */
  private spare: ParsedPacket | null = null;
  /** The fast path's request object, reloaded for every FLOW_MOD (flowModWire). */
  private readonly wireReq = new WireFlowMod();
  /** The datapath flow cache, null when off. */
  private cache: FlowCache | null;

  constructor(opts: InstanceOptions) {
    this.datapathId = opts.datapathId;
    this.clock = opts.clock ?? new SystemClock();
    const n = opts.nTables ?? DEFAULT_TABLES;
    if (!Number.isInteger(n) || n < 1 || n > OFPTT.MAX) throw new RangeError(`nTables ${n} is not in 1..254`);
    this.nTables = n;
    const fc = opts.flowCache ?? true;
    this.cache = fc === false ? null : new FlowCache(fc === true ? DEFAULT_FLOW_CACHE_SIZE : fc);
    const onChange = () => this.cache?.invalidate();
    const sync = () => this.cache?.sync();
    this.tables = Array.from({ length: n }, (_, tableId) => new FlowTable(this.clock, { tableId, maxEntries: opts.maxEntriesPerTable, onChange, sync }));
    this.tableConfig = new Array<number>(n).fill(0);
    this.groups = new GroupTable(this.clock, {
      portLive: (port) => this.portLive(port),
      validateActions: (actions) => validateActions(actions, this.env),
    });
    this.meters = new MeterTable(this.clock);
    this.env = {
      nTables: n,
      hasGroup: (id) => this.groups.has(id),
      hasMeter: (id) => this.meters.get(id) !== undefined,
    };
    const configFlags = () => this.configFlags;
    const host: PipelineHost = {
      clock: this.clock,
      tables: this.tables,
      groups: this.groups,
      meters: this.meters,
      get invalidTtlToController() {
        return (configFlags() & OFPC_INVALID_TTL_TO_CONTROLLER) !== 0;
      },
      transmit: (port, frame) => this.transmit(port, frame),
      floodPorts: (inPort) => this.floodPorts(inPort),
      packetIn: (pkt, reason, tableId, cookie) => this.packetIn(pkt, reason, tableId, cookie),
    };
    this.pipeline = new Pipeline(host, this.cache);
    for (const p of opts.ports) this.insertPort(p);
  }

  // -------------------------------------------------------------------------
  // The datapath

  /**
   * A frame arrives on a port: runs the pipeline. `frame` is never changed
   * (an action editing the packet works on a copy), but it may be the very
   * Buffer that transmit listeners get (see onTransmit): a caller whose
   * listeners keep frames must not change `frame` after the call.
   */
  receiveFrame(inPort: number, frame: Buffer): void {
    const port = this.ports.get(inPort);
    if (port === undefined) return;
    port.rxPackets++;
    port.rxBytes += frame.length;
    if ((port.desc.config & (OFPPC.NO_RECV | OFPPC.PORT_DOWN)) !== 0 || (port.desc.state & OFPPS.LINK_DOWN) !== 0) {
      port.rxDropped++;
      return;
    }
    // One ParsedPacket is reused from packet to packet; a frame received while it is in use (a listener looping back) gets its own.
    let pkt = this.spare;
    if (pkt === null) pkt = parsePacket(frame, inPort);
    else {
      this.spare = null;
      parseInto(pkt, frame, inPort);
    }
    // The pipeline edits frames in place: the packet copies the caller's buffer before its first edit.
    pkt.shared = true;
    try {
      if ((this.configFlags & OFPC_FRAG.MASK) === OFPC_FRAG.DROP && pkt.fragment) {
        port.rxDropped++;
        return;
      }
      this.pipeline.receive(pkt);
    } finally {
      this.spare = pkt;
    }
  }

  /** Turns the flow cache on (true, or its size in megaflows) or off (false), as InstanceOptions.flowCache; a new cache starts empty. */
  setFlowCache(fc: boolean | number): void {
    this.cache?.sync();
    this.cache = fc === false ? null : new FlowCache(fc === true ? DEFAULT_FLOW_CACHE_SIZE : fc);
    this.pipeline.cache = this.cache;
  }

  /** The flow cache's counters (undefined when the instance runs without one). */
  flowCacheStats(): FlowCacheStats | undefined {
    return this.cache?.stats();
  }

  /** Something a cached walk may depend on changed (groups, meters, ports, config): empties the flow cache. */
  private invalidateCache(): void {
    this.cache?.invalidate();
  }

  /**
   * Frames leaving ports. Returns the unsubscribe function. Frames are not
   * copied for the listeners: a listener may keep the Buffer it is given but
   * must not change it (the same Buffer may be given for several outputs of
   * one packet, and may be the one given to receiveFrame).
   */
  onTransmit(listener: (port: number, frame: Buffer) => void): () => void {
    // A listener subscribed twice gets each frame once, as from a Set; an array is iterated faster than a Set, for every output.
    if (!this.listeners.includes(listener)) this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  private transmit(portNo: number, frame: Buffer): void {
    if (portNo !== OFPP.LOCAL) {
      const port = this.ports.get(portNo);
      if (port === undefined) return;
      if ((port.desc.config & (OFPPC.NO_FWD | OFPPC.PORT_DOWN)) !== 0 || (port.desc.state & OFPPS.LINK_DOWN) !== 0) {
        port.txDropped++;
        return;
      }
      // A frame that a pop made shorter than Ethernet's minimum leaves padded, as from a real NIC.
      if (frame.length < MIN_FRAME) frame = Buffer.concat([frame, Buffer.alloc(MIN_FRAME - frame.length)]);
      port.txPackets++;
      port.txBytes += frame.length;
    }
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) listeners[i](portNo, frame);
  }

  private floodPorts(inPort: number): number[] {
    const out: number[] = [];
    for (const p of this.ports.keys()) if (p !== inPort) out.push(p);
    return out.sort((a, b) => a - b);
  }

  private portLive(portNo: number): boolean {
    const p = this.ports.get(portNo);
    return p !== undefined && (p.desc.config & OFPPC.PORT_DOWN) === 0 && (p.desc.state & OFPPS.LINK_DOWN) === 0;
  }

  private packetIn(pkt: ParsedPacket, reason: number, tableId: number, cookie: bigint): void {
    if (this.sessions.size === 0) return;
    const inPort = this.ports.get(pkt.key[W.in_port] >>> 0);
    if (inPort !== undefined && (inPort.desc.config & OFPPC.NO_PACKET_IN) !== 0) return;
    let data = pkt.frame;
    // A packet-in that cannot fit in one message carries what fits (it can only be a jumbo frame).
    const match = packetInMatch(pkt.key);
    const msg: PacketIn = { type: OFPT.PACKET_IN, xid: 0, bufferId: OFP_NO_BUFFER, totalLen: Math.min(data.length, 0xffff), reason, tableId, cookie, match, data };
    if (data.length > 65000) msg.data = data = data.subarray(0, 65000);
    this.broadcast('packetIn', reason, msg);
  }

  // -------------------------------------------------------------------------
  // Sessions and async messages

  /**
   * One OpenFlow connection (controller) to this switch: the session sends
   * HELLO first via `send`; feed it every complete raw message. `onClose`,
   * if given, is called when the session ends the connection itself (a
   * failed version negotiation).
   */
  openSession(send: (raw: Buffer) => void, onClose?: () => void): AgentSession {
    const agent = new Agent(this, send, onClose);
    this.sessions.add(agent);
    agent.start();
    return agent;
  }

  /** @internal the agent leaves */
  detach(agent: Agent): void {
    this.sessions.delete(agent);
  }

  /** Sends an async message to each session whose role and async config want it. */
  private broadcast(kind: AsyncKind, reason: number, msg: OfpMessage): void {
    let raw: Buffer | undefined;
    for (const s of this.sessions) {
      if (!s.wants(kind, reason)) continue;
      raw ??= encodeMessage(msg);
      s.sendRaw(raw);
    }
  }

  /**
   * A role request (§6.3.6) from `agent`: checks the generation id, changes
   * roles (a new master makes the old one a slave). Returns the reply's
   * role and generation id. Throws OfpError(OFPET_ROLE_REQUEST_FAILED).
   */
  roleRequest(agent: Agent, role: number, generationId: bigint): { role: number; generationId: bigint } {
    if (role > OFPCR_ROLE.SLAVE) throw new OfpError(OFPET.ROLE_REQUEST_FAILED, OFPRRFC.BAD_ROLE, `role ${role}`);
    if (role === OFPCR_ROLE.MASTER || role === OFPCR_ROLE.SLAVE) {
      if (this.generationId !== undefined && BigInt.asIntN(64, generationId - this.generationId) < 0n) {
        throw new OfpError(OFPET.ROLE_REQUEST_FAILED, OFPRRFC.STALE, `generation id ${generationId} is older than ${this.generationId}`);
      }
      this.generationId = generationId;
    }
    if (role !== OFPCR_ROLE.NOCHANGE) {
      if (role === OFPCR_ROLE.MASTER) for (const s of this.sessions) if (s !== agent && s.role === OFPCR_ROLE.MASTER) s.role = OFPCR_ROLE.SLAVE;
      agent.role = role;
    }
    return { role: agent.role, generationId: this.generationId ?? 0n };
  }

  /** Runs timeouts (idle/hard → FLOW_REMOVED): call periodically, or after advancing a ManualClock. */
  tick(): void {
    const now = this.clock.now();
    for (const t of this.tables) {
      const removed = t.expire(now);
      if (removed.length > 0) this.flowsRemoved(t, removed);
    }
  }

  private flowsRemoved(table: FlowTable, removed: readonly RemovedFlow[]): void {
    for (const r of removed) {
      const e = r.entry;
      if ((e.flags & OFPFF.SEND_FLOW_REM) === 0) continue;
      const d = e.duration(r.at);
      const msg: FlowRemoved = {
        type: OFPT.FLOW_REMOVED,
        xid: 0,
        cookie: e.cookie,
        priority: e.priority,
        reason: r.reason,
        tableId: table.tableId,
        durationSec: d.sec,
        durationNsec: d.nsec,
        idleTimeout: e.idleTimeout,
        hardTimeout: e.hardTimeout,
        packetCount: BigInt(e.packetCount),
        byteCount: BigInt(e.byteCount),
        match: e.match,
      };
      this.broadcast('flowRemoved', r.reason, msg);
    }
  }

  // -------------------------------------------------------------------------
  // Ports

  private insertPort(p: PortConfig): Port {
    if (!Number.isInteger(p.portNo) || p.portNo < 1 || p.portNo > OFPP.MAX) throw new RangeError(`port number ${p.portNo} is not a standard port`);
    if (this.ports.has(p.portNo)) throw new RangeError(`port ${p.portNo} exists`);
    const curr = p.currSpeed ?? DEFAULT_SPEED;
    const max = p.maxSpeed ?? curr;
    const feature = speedFeature(curr) | OFPPF.FIBER;
    const desc: Port = {
      portNo: p.portNo,
      hwAddr: (p.hwAddr ?? defaultHwAddr(this.datapathId, p.portNo)).toLowerCase(),
      name: (p.name ?? `port${p.portNo}`).slice(0, 15),
      config: 0,
      state: OFPPS.LIVE,
      curr: feature,
      advertised: feature,
      supported: feature | speedFeature(max),
      peer: 0,
      currSpeed: curr,
      maxSpeed: max,
    };
    this.ports.set(p.portNo, { desc, createdAt: this.clock.now(), rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0, rxDropped: 0, txDropped: 0 });
    return desc;
  }

  /** Adds a port (PORT_STATUS ADD). */
  addPort(p: PortConfig): void {
    const desc = this.insertPort(p);
    this.invalidateCache();
    this.portStatus(OFPPR.ADD, desc);
  }

  /** Removes a port (PORT_STATUS DELETE). Flow entries naming it stay (their output is then dropped). */
  removePort(portNo: number): void {
    const p = this.ports.get(portNo);
    if (p === undefined) return;
    this.ports.delete(portNo);
    this.invalidateCache();
    this.portStatus(OFPPR.DELETE, p.desc);
  }

  /** The port's link goes down or comes up (PORT_STATUS MODIFY). */
  setPortLinkDown(portNo: number, down: boolean): void {
    const p = this.ports.get(portNo);
    if (p === undefined) return;
    const was = p.desc.state;
    p.desc.state = down ? p.desc.state | OFPPS.LINK_DOWN : p.desc.state & ~OFPPS.LINK_DOWN;
    this.updateLive(p);
    this.invalidateCache();
    if (p.desc.state !== was) this.portStatus(OFPPR.MODIFY, p.desc);
  }

  private updateLive(p: PortState): void {
    const live = (p.desc.config & OFPPC.PORT_DOWN) === 0 && (p.desc.state & OFPPS.LINK_DOWN) === 0;
    p.desc.state = live ? p.desc.state | OFPPS.LIVE : p.desc.state & ~OFPPS.LIVE;
  }

  private portStatus(reason: number, desc: Port): void {
    this.broadcast('portStatus', reason, { type: OFPT.PORT_STATUS, xid: 0, reason, desc: { ...desc } });
  }

  /** Port descriptions, in port order. */
  portDescs(): Port[] {
    return [...this.ports.values()].map((p) => ({ ...p.desc })).sort((a, b) => a.portNo - b.portNo);
  }

  /** Port numbers, ascending. */
  portNumbers(): number[] {
    return [...this.ports.keys()].sort((a, b) => a - b);
  }

  // -------------------------------------------------------------------------
  // Counters and descriptions

  tableStats(tableId: number): { lookupCount: bigint; matchedCount: bigint; activeCount: number } {
    const t = this.tables[tableId];
    if (t === undefined) throw new RangeError(`no table ${tableId}`);
    return { lookupCount: BigInt(t.lookupCount), matchedCount: BigInt(t.matchedCount), activeCount: t.size };
  }

  /** @internal OFPMP_TABLE */
  allTableStats(): TableStats[] {
    return this.tables.map((t) => ({ tableId: t.tableId, activeCount: t.size, lookupCount: BigInt(t.lookupCount), matchedCount: BigInt(t.matchedCount) }));
  }

  /** @internal FEATURES_REPLY */
  features(xid: number): SwitchFeatures {
    return {
      type: OFPT.FEATURES_REPLY,
      xid,
      datapathId: this.datapathId,
      nBuffers: 0,
      nTables: this.nTables,
      auxiliaryId: 0,
      capabilities: OFPC.FLOW_STATS | OFPC.TABLE_STATS | OFPC.PORT_STATS | OFPC.GROUP_STATS,
      reserved: 0,
    };
  }

  /** @internal OFPMP_DESC */
  desc(): Desc {
    const dpid = this.datapathId.toString(16).padStart(16, '0');
    return {
      mfrDesc: 'nicvisor',
      hwDesc: 'emulated smart-NIC instance',
      swDesc: 'nicvisor softswitch (OpenFlow 1.3.5)',
      serialNum: dpid,
      dpDesc: `instance ${dpid}`,
    };
  }

  /** @internal OFPMP_PORT_STATS; throws OFPBRC_BAD_PORT for a port that is not there. */
  portStats(portNo: number): PortStats[] {
    const now = this.clock.now();
    let list: PortState[];
    if (portNo >>> 0 === OFPP.ANY) list = [...this.ports.values()].sort((a, b) => a.desc.portNo - b.desc.portNo);
    else {
      const p = this.ports.get(portNo);
      if (p === undefined) throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_PORT, `no port ${portNo}`);
      list = [p];
    }
    return list.map((p) => {
      const d = splitDuration(now - p.createdAt);
      return {
        portNo: p.desc.portNo,
        rxPackets: BigInt(p.rxPackets),
        txPackets: BigInt(p.txPackets),
        rxBytes: BigInt(p.rxBytes),
        txBytes: BigInt(p.txBytes),
        rxDropped: BigInt(p.rxDropped),
        txDropped: BigInt(p.txDropped),
        rxErrors: 0n,
        txErrors: 0n,
        rxFrameErr: 0n,
        rxOverErr: 0n,
        rxCrcErr: 0n,
        collisions: 0n,
        durationSec: d.sec,
        durationNsec: d.nsec,
      };
    });
  }

  /**
   * @internal Queue stats and queue config: the NIC has no queues, so the
   * answer is empty for OFPP_ANY or a port that exists, and OFPQOFC_BAD_PORT
   * for one that does not; a specific queue is OFPQOFC_BAD_QUEUE.
   */
  checkQueueRequest(portNo: number, queueId?: number): void {
    const port = portNo >>> 0;
    if (port !== OFPP.ANY && !this.ports.has(port)) throw new OfpError(OFPET.QUEUE_OP_FAILED, OFPQOFC.BAD_PORT, `no port ${port}`);
    if (queueId !== undefined && queueId >>> 0 !== 0xffffffff) throw new OfpError(OFPET.QUEUE_OP_FAILED, OFPQOFC.BAD_QUEUE, `no queue ${queueId}`);
  }

  private tablesOf(tableId: number): FlowTable[] {
    if (tableId === OFPTT.ALL) return this.tables;
    const t = this.tables[tableId];
    if (t === undefined) throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_TABLE_ID, `no table ${tableId}`);
    return [t];
  }

  /** @internal OFPMP_FLOW */
  flowStats(req: FlowStatsRequest): FlowStats[] {
    const tables = this.tablesOf(req.tableId);
    compileMatchScratch(req.match); // BAD_MATCH before anything
    const now = this.clock.now();
    const out: FlowStats[] = [];
    for (const t of tables) for (const e of t.select(req)) out.push(t.statsOf(e, now));
    return out;
  }

  /** @internal OFPMP_AGGREGATE */
  aggregateStats(req: FlowStatsRequest): AggregateStats {
    const tables = this.tablesOf(req.tableId);
    compileMatchScratch(req.match);
    let packetCount = 0n;
    let byteCount = 0n;
    let flowCount = 0;
    for (const t of tables) {
      const a = t.aggregate(req);
      packetCount += a.packetCount;
      byteCount += a.byteCount;
      flowCount += a.flowCount;
    }
    return { packetCount, byteCount, flowCount };
  }

  /** @internal OFPMP_TABLE_FEATURES: every table, with the eight required properties. */
  tableFeatures(): TableFeatures[] {
    const instructionIds = (last: boolean) =>
      [OFPIT.GOTO_TABLE, OFPIT.WRITE_METADATA, OFPIT.WRITE_ACTIONS, OFPIT.APPLY_ACTIONS, OFPIT.CLEAR_ACTIONS, OFPIT.METER]
        .filter((t) => !(last && t === OFPIT.GOTO_TABLE))
        .map((type) => ({ type }));
    const actionIds = ACTION_TYPES.map((type) => ({ type }));
    const oxm = (masked: boolean, onlySettable: boolean) =>
      OXM_FIELDS.filter((d) => !onlySettable || d.settable).map((d) => {
        const hasMask = masked && d.maskable;
        return { oxmClass: OFPXMC.OPENFLOW_BASIC, field: d.id, hasMask, length: hasMask ? 2 * d.width : d.width };
      });
    const match = oxm(true, false);
    const wildcards = oxm(false, false);
    const setfields = oxm(false, true);
    return this.tables.map((t, i) => {
      const last = i === this.nTables - 1;
      return {
        tableId: t.tableId,
        name: `table${i}`,
        metadataMatch: 0xffffffffffffffffn,
        metadataWrite: 0xffffffffffffffffn,
        config: this.tableConfig[i],
        maxEntries: Number.isFinite(t.maxEntries) ? t.maxEntries : MAX_ENTRIES_ADVERTISED,
        properties: [
          { type: OFPTFPT.INSTRUCTIONS, instructionIds: instructionIds(last) },
          { type: OFPTFPT.NEXT_TABLES, nextTableIds: Array.from({ length: this.nTables - i - 1 }, (_, k) => i + 1 + k) },
          { type: OFPTFPT.WRITE_ACTIONS, actionIds },
          { type: OFPTFPT.APPLY_ACTIONS, actionIds },
          { type: OFPTFPT.MATCH, oxmIds: match },
          { type: OFPTFPT.WILDCARDS, oxmIds: wildcards },
          { type: OFPTFPT.WRITE_SETFIELD, oxmIds: setfields },
          { type: OFPTFPT.APPLY_SETFIELD, oxmIds: setfields },
        ],
      };
    });
  }

  /** @internal Flow entries (all tables) forwarding to a group: group stats' ref_count. */
  groupRefCount(groupId: number): number {
    let n = this.groups.chainedRefs(groupId);
    for (const t of this.tables) n += t.select({ cookie: 0n, cookieMask: 0n, outPort: OFPP.ANY, outGroup: groupId, match: [] }).length;
    return n;
  }

  /** @internal Flow entries using a meter: meter stats' flow_count. */
  meterFlowCount(meterId: number): number {
    let n = 0;
    for (const t of this.tables) for (const e of t.entries()) if (usesMeter(e, meterId)) n++;
    return n;
  }

  // -------------------------------------------------------------------------
  // State-changing requests (the agent has checked the role)

  /**
   * @internal FLOW_MOD (§6.4). Throws OfpError; an accepted flow-mod with a buffer id still throws OFPBRC_BUFFER_UNKNOWN.
   * `raw`: the message `fm` was decoded from, if there was one (its instruction bytes are interned as they are).
   */
  flowMod(fm: FlowMod, raw?: Buffer): void {
    const cmd = fm.command;
    if (cmd > OFPFC.DELETE_STRICT) throw new OfpError(OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_COMMAND, `flow-mod command ${cmd}`);
    const isDelete = cmd === OFPFC.DELETE || cmd === OFPFC.DELETE_STRICT;
    if (fm.tableId === OFPTT.ALL ? !isDelete : fm.tableId >= this.nTables) {
      throw new OfpError(OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_TABLE_ID, `table ${fm.tableId} (${this.nTables} tables)`);
    }
    let c = compileMatchScratch(fm.match);
    if (!isDelete) validateInstructions(fm.instructions, fm.tableId, fm.match, this.env);
    const now = this.clock.now();
    if (fm.tableId !== OFPTT.ALL) {
      const t = this.tables[fm.tableId];
      const outcome = t.apply(fm, now, c, raw === undefined || isDelete ? undefined : instructionBytes(raw));
      if (outcome.removed.length > 0) this.flowsRemoved(t, outcome.removed);
    } else {
      // FLOW_REMOVED listeners may compile matches (a reentrant request) before the next table: keep a copy of our own.
      c = copyCompiled(c);
      for (const t of this.tables) {
        const outcome = t.apply(fm, now, c);
        if (outcome.removed.length > 0) this.flowsRemoved(t, outcome.removed);
      }
    }
    if (!isDelete && fm.bufferId >>> 0 !== OFP_NO_BUFFER) {
      throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BUFFER_UNKNOWN, `no buffered packet ${fm.bufferId} (the NIC buffers none)`);
    }
  }

  /**
   * @internal The FLOW_MOD fast path: an ADD to one table, without a
   * buffer id, whose match is OpenFlow-basic OXMs, compiled straight from
   * `raw` (fast-flowmod.ts). True: done, with the outcome flowMod would
   * have had. False: nothing changed, take the slow path (decodeMessage,
   * flowMod), which also gives any error its canonical form.
   */
  flowModWire(raw: Buffer): boolean {
    const len = raw.length;
    if (len < FLOW_MOD_MATCH + 8 || raw[0] !== OFP_VERSION || raw[1] !== OFPT.FLOW_MOD || ((raw[2] << 8) | raw[3]) !== len) return false;
    const tableId = raw[24];
    if (raw[25] !== OFPFC.ADD || tableId >= this.nTables || raw.readUInt32BE(32) !== OFP_NO_BUFFER) return false;
    const m = compileWireMatch(raw, FLOW_MOD_MATCH, len);
    if (m === null) return false;
    const at = m.next;
    let t: FlowTable;
    let outcome: FlowModOutcome;
    try {
      t = this.tables[tableId];
      // Bytes the table has already seen decode and validate as they did then, when nothing they need can change.
      const known = t.internedSet(raw, at);
      const req = this.wireReq;
      if (known !== undefined && known.wireValid) req.load(raw, known.list as Instruction[]);
      else {
        const r = new Reader(raw, at, len);
        const instructions = decodeInstructions(r);
        if (r.pos !== len) return false;
        req.load(raw, instructions);
        // The match matters to instruction validation only for set-field actions.
        validateInstructions(instructions, tableId, hasSetField(instructions) ? req.match : NO_MATCH, this.env);
      }
      outcome = t.apply(req, this.clock.now(), m.compiled, raw, known, at);
      const set = outcome.added?.set;
      if (set !== undefined && !set.wireValid && set.bytes.length === len - at && selfContained(req.instructions)) set.wireValid = true;
    } catch {
      // apply() changes nothing when it throws: the slow path answers.
      return false;
    } finally {
      this.wireReq.release();
    }
    if (outcome.removed.length > 0) this.flowsRemoved(t, outcome.removed);
    return true;
  }

  /** @internal GROUP_MOD (§6.5): deleting a group removes the flow entries forwarding to it. */
  groupMod(gm: GroupMod): void {
    const { deleted } = this.groups.apply(gm);
    this.invalidateCache();
    const now = this.clock.now();
    for (const id of deleted) {
      for (const t of this.tables) {
        const victims = t.select({ cookie: 0n, cookieMask: 0n, outPort: OFPP.ANY, outGroup: id, match: [] });
        if (victims.length > 0) this.flowsRemoved(t, t.remove(victims, OFPRR.GROUP_DELETE, now));
      }
    }
  }

  /** @internal METER_MOD (§6.6): deleting a meter removes the flow entries using it. */
  meterMod(mm: MeterMod): void {
    const { deleted } = this.meters.apply(mm);
    this.invalidateCache();
    if (deleted.length === 0) return;
    const gone = new Set(deleted);
    const now = this.clock.now();
    for (const t of this.tables) {
      const victims = t.entries().filter((e) => [...gone].some((id) => usesMeter(e, id)));
      if (victims.length > 0) this.flowsRemoved(t, t.remove(victims, OFPRR.METER_DELETE, now));
    }
  }

  /** @internal PORT_MOD (§7.3.4.3). */
  portMod(pm: PortMod): void {
    const p = this.ports.get(pm.portNo);
    if (p === undefined) throw new OfpError(OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_PORT, `no port ${pm.portNo}`);
    if (pm.hwAddr.toLowerCase() !== p.desc.hwAddr) throw new OfpError(OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_HW_ADDR, `port ${pm.portNo} has address ${p.desc.hwAddr}`);
    if (((pm.mask | pm.config) & ~PORT_CONFIG_BITS) !== 0) {
      throw new OfpError(OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_CONFIG, `config 0x${pm.config.toString(16)} mask 0x${pm.mask.toString(16)}`);
    }
    if (pm.advertise !== 0 && (pm.advertise & ~p.desc.supported) !== 0) {
      throw new OfpError(OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_ADVERTISE, `advertise 0x${pm.advertise.toString(16)} is not supported`);
    }
    const before = { ...p.desc };
    p.desc.config = (p.desc.config & ~pm.mask) | (pm.config & pm.mask);
    if (pm.advertise !== 0) p.desc.advertised = pm.advertise;
    this.updateLive(p);
    this.invalidateCache();
    if (p.desc.config !== before.config || p.desc.state !== before.state || p.desc.advertised !== before.advertised) this.portStatus(OFPPR.MODIFY, p.desc);
  }

  /** @internal TABLE_MOD: only the deprecated config bits exist in 1.3. */
  tableMod(tableId: number, config: number): void {
    if (tableId !== OFPTT.ALL && tableId >= this.nTables) throw new OfpError(OFPET.TABLE_MOD_FAILED, OFPTMFC.BAD_TABLE, `no table ${tableId}`);
    if ((config & ~3) !== 0) throw new OfpError(OFPET.TABLE_MOD_FAILED, OFPTMFC.BAD_CONFIG, `table config 0x${config.toString(16)}`);
    if (tableId === OFPTT.ALL) this.tableConfig.fill(config);
    else this.tableConfig[tableId] = config;
  }

  /** @internal SET_CONFIG: IP fragments are handled normally or dropped; reassembly is not offered. */
  setConfig(flags: number, missSendLen: number): void {
    if ((flags & ~(OFPC_FRAG.MASK | OFPC_INVALID_TTL_TO_CONTROLLER)) !== 0 || (flags & OFPC_FRAG.MASK) === OFPC_FRAG.REASM || (flags & OFPC_FRAG.MASK) === OFPC_FRAG.MASK) {
      throw new OfpError(OFPET.SWITCH_CONFIG_FAILED, OFPSCFC.BAD_FLAGS, `config flags 0x${flags.toString(16)}`);
    }
    this.configFlags = flags;
    this.missSendLen = missSendLen;
    this.invalidateCache();
  }

  /** @internal PACKET_OUT (§7.3.7). */
  packetOut(po: PacketOut): void {
    if (po.bufferId >>> 0 !== OFP_NO_BUFFER) throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BUFFER_UNKNOWN, `no buffered packet ${po.bufferId} (the NIC buffers none)`);
    const inPort = po.inPort >>> 0;
    if (!(this.ports.has(inPort) || inPort === OFPP.CONTROLLER || inPort === OFPP.LOCAL || inPort === OFPP.ANY)) {
      throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_PORT, `packet-out in_port 0x${inPort.toString(16)}`);
    }
    validateActions(po.actions, this.env, { packetOut: true });
    const pkt = parsePacket(Buffer.from(po.data), inPort);
    this.pipeline.packetOut(pkt, po.actions);
  }
}

const NO_MATCH: Match = [];

const EMPTY = Buffer.alloc(0);
const NO_INSTRUCTIONS: Instruction[] = [];

/**
 * The FlowModRequest of an ADD taken by the fast path: header fields read
 * from the wire, the cookie as halves (FlowModRequest.cookieHi), the match
 * decoded only if asked for. One per instance, loaded for each message.
 */
class WireFlowMod implements FlowModRequest {
  readonly command = OFPFC.ADD;
  cookieHi = 0;
  cookieLo = 0;
  idleTimeout = 0;
  hardTimeout = 0;
  priority = 0;
  outPort = 0;
  outGroup = 0;
  flags = 0;
  private raw: Buffer = EMPTY;
  instructions: Instruction[] = NO_INSTRUCTIONS;
  private decoded: Match | undefined = undefined;

  /** Reads a FLOW_MOD of at least FLOW_MOD_MATCH bytes. */
  load(raw: Buffer, instructions: Instruction[]): void {
    this.raw = raw;
    this.instructions = instructions;
    this.decoded = undefined;
    this.cookieHi = ((raw[8] << 24) | (raw[9] << 16) | (raw[10] << 8) | raw[11]) >>> 0;
    this.cookieLo = ((raw[12] << 24) | (raw[13] << 16) | (raw[14] << 8) | raw[15]) >>> 0;
    this.idleTimeout = (raw[26] << 8) | raw[27];
    this.hardTimeout = (raw[28] << 8) | raw[29];
    this.priority = (raw[30] << 8) | raw[31];
    this.outPort = raw.readUInt32BE(36);
    this.outGroup = raw.readUInt32BE(40);
    this.flags = (raw[44] << 8) | raw[45];
  }

  /** Keeps nothing of the last message alive. */
  release(): void {
    this.raw = EMPTY;
    this.instructions = NO_INSTRUCTIONS;
    this.decoded = undefined;
  }

  /** Not used by an ADD (cookieHi/cookieLo are): read only if asked for. */
  get cookie(): bigint {
    return this.raw.readBigUInt64BE(8);
  }

  get cookieMask(): bigint {
    return this.raw.readBigUInt64BE(16);
  }

  get match(): Match {
    return (this.decoded ??= decodeMatch(new Reader(this.raw, FLOW_MOD_MATCH, this.raw.length)));
  }
}

/** Does validating the list depend on nothing but its table (no group action, meter instruction or set-field)? Only standard instructions. */
function selfContained(list: readonly Instruction[]): boolean {
  for (const ins of list) {
    switch (ins.type) {
      case OFPIT.GOTO_TABLE:
      case OFPIT.WRITE_METADATA:
      case OFPIT.CLEAR_ACTIONS:
        break;
      case OFPIT.APPLY_ACTIONS:
      case OFPIT.WRITE_ACTIONS:
        for (const a of ins.actions) if (a.type === OFPAT.GROUP || a.type === OFPAT.SET_FIELD) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function hasSetField(list: readonly Instruction[]): boolean {
  for (const ins of list) {
    if (ins.type !== OFPIT.APPLY_ACTIONS && ins.type !== OFPIT.WRITE_ACTIONS) continue;
    for (const a of ins.actions) if (a.type === OFPAT.SET_FIELD) return true;
  }
  return false;
}

/** Offset of a FLOW_MOD's match (ofp_flow_mod without it). */
const FLOW_MOD_MATCH = 48;

/** The instructions of an encoded FLOW_MOD: the bytes after its (padded) match; undefined if the message is not laid out so. */
function instructionBytes(raw: Buffer): Buffer | undefined {
  if (raw.length < FLOW_MOD_MATCH + 4) return undefined;
  const end = (raw[2] << 8) | raw[3];
  const start = FLOW_MOD_MATCH + ((((raw[FLOW_MOD_MATCH + 2] << 8) | raw[FLOW_MOD_MATCH + 3]) + 7) & ~7);
  if (end > raw.length || start > end) return undefined;
  return raw.subarray(start, end);
}

function usesMeter(e: FlowEntry, meterId: number): boolean {
  for (const i of e.instructions) if (i.type === OFPIT.METER && i.meterId >>> 0 === meterId) return true;
  return false;
}

