/**
 * The datapath pipeline of one emulated NIC (OpenFlow 1.3.5 §5): the walk
 * through the flow tables, instructions, the action set, action lists,
 * groups, meters and the output ports; and the checks a switch makes on
 * instructions and actions when a flow-mod, group-mod or packet-out brings
 * them (§6.4, §7.2.4-7.2.5).
 *
 * The pipeline owns nothing: tables, groups, meters and the ports belong to
 * the instance, which it reaches through PipelineHost.
 */
import {
  Action,
  Instruction,
  Match,
  OFPAT,
  OFPBAC,
  OFPBIC,
  OFPCML,
  OFPET,
  OFPG,
  OFPIT,
  OFPM,
  OFPMBT,
  OFPMMFC,
  OFPP,
  OFPR,
  OFPVID,
  OfpError,
  OxmName,
  isOpaque,
  oxmByName,
} from '@nicvisor/openflow';
import type { Clock } from './clock.js';
import type { FlowEntry, FlowTable } from './flow-table.js';
import { GroupTable, MAX_CHAIN_DEPTH } from './groups.js';
import { actionSetRank, applyHeaderAction, validateHeaderAction } from './header-actions.js';
import { W } from './key.js';
import { MeterTable, remarkDscp } from './meters.js';
import { clonePacket, L3, ParsedPacket } from './packet.js';
import type { FlowCache, Megaflow } from './flow-cache.js';

/** What the pipeline needs of its instance. */
export interface PipelineHost {
  readonly clock: Clock;
  readonly tables: readonly FlowTable[];
  readonly groups: GroupTable;
  readonly meters: MeterTable;
  /** OFPC_INVALID_TTL_TO_CONTROLLER is set. */
  readonly invalidTtlToController: boolean;
  /** Sends a frame out of one port; the host drops it if the port is missing, down or OFPPC_NO_FWD. */
  transmit(port: number, frame: Buffer): void;
  /** The ports OFPP_ALL / OFPP_FLOOD send to: every standard port but `inPort`. */
  floodPorts(inPort: number): readonly number[];
  /** A packet-in to the controllers (each session filters by role and async config). */
  packetIn(pkt: ParsedPacket, reason: number, tableId: number, cookie: bigint): void;
}

/** OFPTT_ALL and an all-ones cookie: a packet-in that no flow entry caused (packet-out). */
const NO_TABLE = 0xff;
const NO_COOKIE = 0xffffffffffffffffn;

/** A flow entry's instructions in execution order (§5.9), computed once per shared instruction list. */
interface Program {
  readonly meterId: number;
  readonly apply: readonly Action[] | null;
  /** The apply-actions may change the packet's headers (and key): a later lookup's key is then not the walk's own. */
  readonly applyModifies: boolean;
  readonly clear: boolean;
  readonly write: readonly Action[] | null;
  /** Write-metadata as 32-bit halves: value high/low, mask high/low. */
  readonly metadata: Uint32Array | null;
  /** -1: no goto. */
  readonly gotoTable: number;
}

const PROGRAMS = new WeakMap<readonly Instruction[], Program>();

function programOf(list: readonly Instruction[]): Program {
  let p = PROGRAMS.get(list);
  if (p !== undefined) return p;
  let meterId = 0;
  let apply: readonly Action[] | null = null;
  let clear = false;
  let write: readonly Action[] | null = null;
  let metadata: Uint32Array | null = null;
  let gotoTable = -1;
  for (const ins of list) {
    switch (ins.type) {
      case OFPIT.METER:
        meterId = ins.meterId >>> 0;
        break;
      case OFPIT.APPLY_ACTIONS:
        apply = ins.actions;
        break;
      case OFPIT.CLEAR_ACTIONS:
        clear = true;
        break;
      case OFPIT.WRITE_ACTIONS:
        write = ins.actions;
        break;
      case OFPIT.WRITE_METADATA:
        metadata = new Uint32Array([
          Number((ins.metadata >> 32n) & 0xffffffffn),
          Number(ins.metadata & 0xffffffffn),
          Number((ins.metadataMask >> 32n) & 0xffffffffn),
          Number(ins.metadataMask & 0xffffffffn),
        ]);
        break;
      case OFPIT.GOTO_TABLE:
        gotoTable = ins.tableId;
        break;
    }
  }
  const applyModifies =
    apply !== null && apply.some((a) => a.type !== OFPAT.OUTPUT && a.type !== OFPAT.GROUP && a.type !== OFPAT.SET_QUEUE && a.type !== OFPAT.EXPERIMENTER);
  p = { meterId, apply, applyModifies, clear, write, metadata, gotoTable };
  PROGRAMS.set(list, p);
  return p;
}

/** The program of a flow entry, memoised on its (shared) instruction set. */
function programOfEntry(e: FlowEntry): Program {
  const set = e.set;
  let p = set.program as Program | undefined;
  if (p === undefined) set.program = p = programOf(set.list);
  return p;
}

/** Makes the packet's frame its own before a header action edits it (a received frame is the caller's until then). */
function own(pkt: ParsedPacket): void {
  pkt.frame = Buffer.from(pkt.frame);
  pkt.shared = false;
}

/**
 * The action set (§5.10): at most one action of each type, and one
 * set-field per field; a later write replaces the earlier action in place.
 */
export class ActionSet {
  private readonly actions = new Map<number | string, Action>();

  write(list: readonly Action[]): void {
    for (const a of list) {
      const k = a.type === OFPAT.SET_FIELD ? (isOpaque(a.field) ? `f${a.field.oxmClass}:${a.field.field}` : a.field.field) : a.type;
      this.actions.set(k, a);
    }
  }

  clear(): void {
    this.actions.clear();
  }

  get size(): number {
    return this.actions.size;
  }

  /** The actions in execution order; output is left out when a group is there. */
  ordered(): Action[] {
    const list = [...this.actions.values()];
    // Array.prototype.sort is stable: set-fields keep the order they were written in.
    list.sort((a, b) => actionSetRank(a) - actionSetRank(b));
    if (this.actions.has(OFPAT.GROUP)) return list.filter((a) => a.type !== OFPAT.OUTPUT);
    return list;
  }
}

/** Where a packet is in the pipeline: what a packet-in from here reports. */
interface Run {
  tableId: number;
  entry: FlowEntry | null;
  /** Packet-out: OFPP_TABLE is allowed, and no flow entry caused a packet-in. */
  packetOut: boolean;
}

/** One set-field ip_dscp action per DSCP value, for DSCP_REMARK bands (the action's plan is cached per object). */
const DSCP_ACTIONS: Action[] = Array.from({ length: 64 }, (_, v) => ({ type: OFPAT.SET_FIELD, field: { field: 'ip_dscp', value: v } }));

/** How fromTable counts and records (see there). */
const DIRECT = 0;
const DEFERRED = 1;
const RECORD = 2;
/** The outer Run of a received packet (read only). */
const RECEIVED: Run = { tableId: 0, entry: null, packetOut: false };

export class Pipeline {
  constructor(
    private readonly host: PipelineHost,
    /** The instance's datapath flow cache, or null to look every packet up in every table. */
    public cache: FlowCache | null = null,
  ) {}

  /** A packet that arrived on a port: the pipeline from table 0. */
  receive(pkt: ParsedPacket): void {
    const cache = this.cache;
    if (cache === null) {
      this.fromTable(pkt, 0, RECEIVED, null, DIRECT);
      return;
    }
    const mf = cache.lookup(pkt.key);
    if (mf !== undefined) {
      if (cache.walk !== null) {
        // A packet sent into the instance during another one's replay (a transmit listener looping back): counted step by step.
        this.fromTable(pkt, 0, RECEIVED, mf, DIRECT);
        return;
      }
      const plan = mf.plan;
      if (plan !== null) {
        this.forward(pkt, mf, plan, cache);
        return;
      }
      try {
        this.fromTable(pkt, 0, RECEIVED, mf, DEFERRED);
      } finally {
        cache.leave();
      }
      return;
    }
    if (cache.recording) {
      // A packet sent into the instance while another one's walk is being recorded (a transmit listener looping back).
      this.fromTable(pkt, 0, RECEIVED, null, DIRECT);
      return;
    }
    cache.begin(pkt.key);
    try {
      this.fromTable(pkt, 0, RECEIVED, null, RECORD);
      cache.recPlan = planOf(cache.recPrograms as readonly (Program | null)[]);
    } finally {
      cache.end();
    }
  }

  /**
   * A cached walk that is plain forwarding (planOf): every step entered at
   * once, as the replay would have entered them before its first output,
   * then the outputs.
   */
  private forward(pkt: ParsedPacket, mf: Megaflow, plan: readonly number[], cache: FlowCache): void {
    cache.forwarded++;
    cache.enter(mf, pkt.frame.length, this.host.clock.now());
    cache.walkStep = mf.lastStep;
    try {
      if (mf.planPort >= 0) this.output(pkt, mf.planPort, RECEIVED);
      else for (let i = 0; i < plan.length; i++) this.output(pkt, plan[i], RECEIVED);
    } finally {
      cache.leave();
    }
  }

  /** A PACKET_OUT's packet through its action list (validated by the caller). */
  packetOut(pkt: ParsedPacket, actions: readonly Action[]): void {
    this.runList(pkt, actions, { tableId: NO_TABLE, entry: null, packetOut: true }, 0);
  }

  /**
   * The walk through the tables from `first`. `replay`: the entries a cached
   * walk matched, taken instead of looking the first tables up while the
   * cache has not changed since; counted one by one (DIRECT) or on the
   * megaflow the cache is replaying (DEFERRED, see FlowCache.enter). RECORD:
   * records this walk's entries for the cache (while its key is the
   * packet's own).
   */
  private fromTable(pkt: ParsedPacket, first: number, outer: Run, replay: Megaflow | null, mode: number): void {
    const host = this.host;
    const cache = this.cache;
    const gen = cache === null ? 0 : cache.generation;
    const now = host.clock.now();
    const bytes = pkt.frame.length;
    const run: Run = { tableId: first, entry: null, packetOut: outer.packetOut };
    let record = mode === RECORD;
    let set: ActionSet | null = null;
    let tableId = first;
    let step = 0;
    const steps = replay === null ? 0 : replay.steps.length;
    if (mode === DEFERRED) cache!.enter(replay!, bytes, now);
    for (;;) {
      const table = host.tables[tableId];
      if (table === undefined) return;
      run.tableId = tableId;
      let entry: FlowEntry | null | undefined;
      let prog: Program;
      if (step < steps && cache!.generation === gen) {
        // The megaflow's entry and program: the entry itself is not read (it may be cold in memory).
        entry = replay!.steps[step];
        if (mode === DEFERRED && !cache!.walkSplit) cache!.walkStep = step;
        else table.credit(entry, bytes, now);
        if (entry === null) return;
        prog = replay!.programs[step] as Program;
      } else {
        if (record && cache!.generation === gen) {
          entry = table.lookupTrace(pkt.key, bytes, now, cache!.mask) ?? null;
          cache!.recEntries.push(entry);
          cache!.recTables.push(table);
          cache!.recPrograms.push(entry === null ? null : programOfEntry(entry));
        } else entry = table.lookup(pkt.key, bytes, now);
        if (entry === undefined || entry === null) return; // table miss without a table-miss entry: drop (§5.4)
        prog = programOfEntry(entry);
      }
      step++;
      run.entry = entry;
      if (prog.meterId !== 0) {
        // A DSCP-remark band changes the key by the meter's state, not by the walk's: stop recording.
        record = false;
        if (!this.meter(pkt, prog.meterId, now)) return;
      }
      if (prog.apply !== null) {
        if (prog.applyModifies) record = false;
        if (!this.runList(pkt, prog.apply, run, 0)) return;
      }
      if (prog.clear && set !== null) set.clear();
      if (prog.write !== null) (set ??= new ActionSet()).write(prog.write);
      if (prog.metadata !== null) {
        const k = pkt.key;
        const m = prog.metadata;
        k[W.metadata] = (k[W.metadata] & ~m[2]) | (m[0] & m[2]);
        k[W.metadata + 1] = (k[W.metadata + 1] & ~m[3]) | (m[1] & m[3]);
      }
      if (prog.gotoTable < 0) break;
      tableId = prog.gotoTable;
    }
    if (set !== null && set.size > 0) this.runList(pkt, set.ordered(), run, 0, true);
  }

  /** Meters the packet; false when a band drops it. */
  private meter(pkt: ParsedPacket, meterId: number, now: number): boolean {
    const m = this.host.meters.get(meterId);
    if (m === undefined) return true;
    const band = m.offer(pkt.frame.length, now);
    if (band === undefined) return true;
    if (band.type === OFPMBT.DROP) return false;
    if (band.type === OFPMBT.DSCP_REMARK && (pkt.l3Type === L3.IPV4 || pkt.l3Type === L3.IPV6)) {
      const dscp = pkt.key[W.ip_dscp];
      const remarked = remarkDscp(dscp, band.precLevel);
      if (remarked !== dscp) {
        if (pkt.shared) own(pkt);
        applyHeaderAction(pkt, DSCP_ACTIONS[remarked]);
      }
    }
    return true;
  }

  /**
   * Runs an action list (apply-actions, a bucket, a packet-out, or the
   * ordered action set when `final`) on `pkt`. False when the packet is gone
   * (invalid TTL).
   */
  private runList(pkt: ParsedPacket, actions: readonly Action[], run: Run, depth: number, final = false): boolean {
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i];
      switch (a.type) {
        case OFPAT.OUTPUT:
          this.output(pkt, a.port >>> 0, run);
          break;
        case OFPAT.GROUP:
          // The last thing done to the packet in an action set: its buckets may have it.
          this.group(pkt, a.groupId >>> 0, run, depth, final && i === actions.length - 1);
          break;
        case OFPAT.SET_QUEUE:
        case OFPAT.EXPERIMENTER:
          break; // no queues: every packet takes the port's one queue
        default: {
          if (pkt.shared) own(pkt);
          const r = applyHeaderAction(pkt, a);
          if (r.invalidTtl) {
            if (this.host.invalidTtlToController) this.packetIn(pkt, OFPR.INVALID_TTL, run);
            return false;
          }
        }
      }
    }
    return true;
  }

  private group(pkt: ParsedPacket, groupId: number, run: Run, depth: number, last: boolean): void {
    if (depth >= MAX_CHAIN_DEPTH) return;
    const groups = this.host.groups;
    const g = groups.get(groupId);
    if (g === undefined) return;
    const buckets = groups.select(g, pkt.key, pkt.frame.length);
    const bucketRun: Run = { tableId: run.tableId, entry: null, packetOut: run.packetOut };
    for (let i = 0; i < buckets.length; i++) {
      // Each bucket works on its own copy, unless this is the packet's last use.
      const p = last && i === buckets.length - 1 ? pkt : clonePacket(pkt);
      this.runList(p, buckets[i].bucket.actions, bucketRun, depth + 1);
    }
  }

  /**
   * Zero-copy output: the listeners get the packet's frame itself (they may
   * keep it, and must not change it), and the packet is marked shared so
   * that an action editing it afterwards works on a copy (own()).
   */
  private output(pkt: ParsedPacket, port: number, run: Run): void {
    const host = this.host;
    const inPort = pkt.key[W.in_port] >>> 0;
    if (port <= OFPP.MAX) {
      // Sending a packet back where it came from takes OFPP_IN_PORT (§7.2.5).
      if (port !== inPort) {
        pkt.shared = true;
        host.transmit(port, pkt.frame);
      }
      return;
    }
    switch (port) {
      case OFPP.IN_PORT:
        if (inPort <= OFPP.MAX || inPort === OFPP.LOCAL) {
          pkt.shared = true;
          host.transmit(inPort, pkt.frame);
        } else if (inPort === OFPP.CONTROLLER) this.packetIn(pkt, OFPR.ACTION, run);
        return;
      case OFPP.ALL:
      case OFPP.FLOOD:
        pkt.shared = true;
        for (const p of host.floodPorts(inPort)) host.transmit(p, pkt.frame);
        return;
      case OFPP.CONTROLLER:
        this.packetIn(pkt, run.entry !== null && isTableMiss(run.entry) ? OFPR.NO_MATCH : OFPR.ACTION, run);
        return;
      case OFPP.LOCAL:
        if (inPort !== OFPP.LOCAL) {
          pkt.shared = true;
          host.transmit(OFPP.LOCAL, pkt.frame);
        }
        return;
      case OFPP.TABLE:
        if (run.packetOut) this.fromTable(clonePacket(pkt), 0, run, null, DIRECT);
        return;
      default:
        return; // NORMAL, ANY: refused when the actions were validated
    }
  }

  private packetIn(pkt: ParsedPacket, reason: number, run: Run): void {
    const e = run.entry;
    if (run.packetOut && e === null) this.host.packetIn(pkt, reason, NO_TABLE, NO_COOKIE);
    else this.host.packetIn(pkt, reason, run.tableId, e === null ? NO_COOKIE : e.cookie);
  }
}

/** Output ports whose output needs nothing of the walk but the frame and in_port (no packet-in). */
function plainPort(port: number): boolean {
  return port <= OFPP.MAX || port === OFPP.IN_PORT || port === OFPP.ALL || port === OFPP.FLOOD || port === OFPP.LOCAL;
}

/**
 * The outputs of a complete recorded walk (the programs of its steps, null
 * for a miss) if it is plain forwarding: no meter, nothing but outputs to
 * plainPort()s (and set-queue) in its apply-actions, those at the last step
 * only (so every lookup comes before the first output, as in a replay), an
 * action set of the same, and a last step that ends the walk. Null
 * otherwise. Write-metadata is allowed: with no lookup or packet-in after
 * it, it changes nothing seen.
 */
function planOf(programs: readonly (Program | null)[]): number[] | null {
  const n = programs.length;
  const out: number[] = [];
  let setOut = -1;
  for (let i = 0; i < n; i++) {
    const p = programs[i];
    const last = i === n - 1;
    // A miss drops the packet, action set and all.
    if (p === null) return last ? [] : null;
    if (p.meterId !== 0 || (p.gotoTable >= 0) === last) return null;
    if (p.apply !== null) {
      for (const a of p.apply) {
        if (a.type === OFPAT.SET_QUEUE) continue;
        if (a.type !== OFPAT.OUTPUT || !last || !plainPort(a.port >>> 0)) return null;
        out.push(a.port >>> 0);
      }
    }
    if (p.clear) setOut = -1;
    if (p.write !== null) {
      for (const a of p.write) {
        if (a.type === OFPAT.SET_QUEUE) continue;
        if (a.type !== OFPAT.OUTPUT || !plainPort(a.port >>> 0)) return null;
        setOut = a.port >>> 0;
      }
    }
  }
  if (n === 0) return null;
  if (setOut >= 0) out.push(setOut);
  return out;
}

/** A table-miss flow entry: priority 0 and no match fields (§5.4). */
export function isTableMiss(e: FlowEntry): boolean {
  return e.priority === 0 && e.compiled.words.length === 0;
}

/** The OXM fields a packet-in carries: the pipeline fields (§7.4.1), all-zero ones left out. */
export function packetInMatch(key: Uint32Array): Match {
  const inPort = key[W.in_port] >>> 0;
  const match: Match = [{ field: 'in_port', value: inPort }];
  const phy = key[W.in_phy_port] >>> 0;
  if (phy !== inPort && phy !== 0) match.push({ field: 'in_phy_port', value: phy });
  const md = (BigInt(key[W.metadata] >>> 0) << 32n) | BigInt(key[W.metadata + 1] >>> 0);
  if (md !== 0n) match.push({ field: 'metadata', value: md });
  const tun = (BigInt(key[W.tunnel_id] >>> 0) << 32n) | BigInt(key[W.tunnel_id + 1] >>> 0);
  if (tun !== 0n) match.push({ field: 'tunnel_id', value: tun });
  return match;
}

// ---------------------------------------------------------------------------
// Validation at flow-mod / group-mod / packet-out time

/** What validation needs of the instance. */
export interface ValidationEnv {
  readonly nTables: number;
  hasGroup(groupId: number): boolean;
  hasMeter(meterId: number): boolean;
}

export interface ActionContext {
  /** The match the actions run under (flow entries); undefined for buckets and packet-outs (nothing is known). */
  match?: Match;
  /** OFPP_TABLE is allowed (packet-out only). */
  packetOut?: boolean;
}

function badAction(code: number, detail: string): OfpError {
  return new OfpError(OFPET.BAD_ACTION, code, detail);
}

/** Exact or masked values of fields, as a flow's match (and the actions so far) make them known. */
type Known = Map<OxmName, { value: number; mask: number }>;

function knownOf(match: Match | undefined): Known | null {
  if (match === undefined) return null;
  const k: Known = new Map();
  for (const tlv of match) {
    if (isOpaque(tlv) || typeof tlv.value !== 'number') continue;
    const mask = tlv.mask === undefined ? 0xffffffff : typeof tlv.mask === 'number' ? tlv.mask : 0;
    k.set(tlv.field, { value: tlv.value, mask });
  }
  return k;
}

/** Do the known fields satisfy the prerequisites of setting `field` (and theirs, transitively)? */
function prereqsMet(known: Known, field: OxmName): boolean {
  const d = oxmByName(field);
  if (d === undefined) return false;
  for (const pre of d.prereqs) {
    const k = known.get(pre.field);
    if (k === undefined) return false;
    if (pre.values.length > 0) {
      // Every bit the prerequisite tests must be known, and have a value it allows.
      const m = pre.mask ?? 2 ** oxmByName(pre.field)!.bits - 1;
      if ((k.mask & m) !== m || !pre.values.includes(k.value & m)) return false;
    }
    if (!prereqsMet(known, pre.field)) return false;
  }
  return true;
}

/** After a tag push or pop, what is known about the packet's fields changes. */
function trackAction(known: Known, a: Action): void {
  switch (a.type) {
    case OFPAT.PUSH_VLAN:
      known.set('vlan_vid', { value: OFPVID.PRESENT, mask: OFPVID.PRESENT });
      return;
    case OFPAT.POP_VLAN:
      known.delete('vlan_vid');
      known.delete('vlan_pcp');
      return;
    case OFPAT.PUSH_MPLS:
    case OFPAT.POP_MPLS:
    case OFPAT.PUSH_PBB: {
      // The EtherType becomes the action's; what lay behind it is no longer parsed.
      const vlan = known.get('vlan_vid');
      const pcp = known.get('vlan_pcp');
      const inPort = known.get('in_port');
      known.clear();
      if (a.type !== OFPAT.PUSH_PBB) {
        if (vlan !== undefined) known.set('vlan_vid', vlan);
        if (pcp !== undefined) known.set('vlan_pcp', pcp);
      }
      if (inPort !== undefined) known.set('in_port', inPort);
      known.set('eth_type', { value: a.ethertype, mask: 0xffffffff });
      return;
    }
    case OFPAT.POP_PBB:
      known.clear();
      return;
    case OFPAT.SET_FIELD: {
      const f = a.field;
      if (isOpaque(f) || typeof f.value !== 'number') return;
      if (f.field === 'eth_type' || f.field === 'ip_proto') {
        // A new upper layer: fields that depended on the old one are unknown.
        for (const name of [...known.keys()]) {
          const d = oxmByName(name);
          if (d !== undefined && d.prereqs.some((p) => p.field === f.field || p.field === 'ip_proto')) known.delete(name);
        }
      }
      known.set(f.field, { value: f.value, mask: 0xffffffff });
      return;
    }
  }
}

/**
 * Checks an action list (§7.2.5): ports, groups, tag ethertypes, set-field
 * types, values and prerequisites. Throws OfpError(OFPET_BAD_ACTION, ...).
 */
export function validateActions(actions: readonly Action[], env: ValidationEnv, ctx: ActionContext = {}): void {
  // What the match makes known matters only to a set-field: without one, nothing to track.
  let setField = false;
  for (let i = 0; i < actions.length && !setField; i++) setField = actions[i].type === OFPAT.SET_FIELD;
  const known = setField ? knownOf(ctx.match) : null;
  for (const a of actions) {
    switch (a.type) {
      case OFPAT.OUTPUT: {
        const port = a.port >>> 0;
        const ok =
          (port !== 0 && port <= OFPP.MAX) ||
          port === OFPP.IN_PORT ||
          port === OFPP.ALL ||
          port === OFPP.FLOOD ||
          port === OFPP.CONTROLLER ||
          port === OFPP.LOCAL ||
          (port === OFPP.TABLE && ctx.packetOut === true);
        if (!ok) throw badAction(OFPBAC.BAD_OUT_PORT, `output to port 0x${port.toString(16)}`);
        if (port === OFPP.CONTROLLER && a.maxLen > OFPCML.MAX && a.maxLen !== OFPCML.NO_BUFFER) {
          throw badAction(OFPBAC.BAD_ARGUMENT, `controller max_len 0x${a.maxLen.toString(16)}`);
        }
        break;
      }
      case OFPAT.GROUP: {
        const g = a.groupId >>> 0;
        if (g > OFPG.MAX || !env.hasGroup(g)) throw badAction(OFPBAC.BAD_OUT_GROUP, `group ${g} does not exist`);
        break;
      }
      case OFPAT.SET_QUEUE:
        break;
      case OFPAT.EXPERIMENTER:
        throw badAction(OFPBAC.BAD_EXPERIMENTER, `experimenter action 0x${a.experimenter.toString(16)}`);
      case OFPAT.SET_FIELD:
        validateHeaderAction(a);
        if (!isOpaque(a.field) && known !== null && !prereqsMet(known, a.field.field)) {
          throw badAction(OFPBAC.MATCH_INCONSISTENT, `set_field ${a.field.field}: its prerequisites are not in the match`);
        }
        break;
      default:
        validateHeaderAction(a);
    }
    if (known !== null) trackAction(known, a);
  }
}

/**
 * Checks a flow entry's instructions (§7.2.4) for table `tableId`.
 * Throws OfpError (OFPET_BAD_INSTRUCTION, OFPET_BAD_ACTION, OFPET_METER_MOD_FAILED).
 */
export function validateInstructions(list: readonly Instruction[], tableId: number, match: Match, env: ValidationEnv): void {
  // Types seen: a bit per standard type (1..6), a set for any other (only to report it twice, as before).
  let seenBits = 0;
  let seen: Set<number> | null = null;
  for (const ins of list) {
    const t = ins.type;
    const standard = t >= 0 && t < 31;
    if (standard ? (seenBits & (1 << t)) !== 0 : seen !== null && seen.has(t)) {
      throw new OfpError(OFPET.BAD_INSTRUCTION, OFPBIC.UNSUP_INST, `instruction type ${t} appears twice`);
    }
    if (standard) seenBits |= 1 << t;
    else (seen ??= new Set<number>()).add(t);
    switch (ins.type) {
      case OFPIT.GOTO_TABLE:
        if (ins.tableId <= tableId || ins.tableId >= env.nTables) {
          throw new OfpError(OFPET.BAD_INSTRUCTION, OFPBIC.BAD_TABLE_ID, `goto_table ${ins.tableId} from table ${tableId}`);
        }
        break;
      case OFPIT.WRITE_METADATA:
        break;
      case OFPIT.APPLY_ACTIONS:
        validateActions(ins.actions, env, { match });
        break;
      case OFPIT.WRITE_ACTIONS:
        validateActions(ins.actions, env, { match });
        break;
      case OFPIT.CLEAR_ACTIONS:
        if (ins.actions.length !== 0) throw new OfpError(OFPET.BAD_INSTRUCTION, OFPBIC.BAD_LEN, 'clear_actions carries actions');
        break;
      case OFPIT.METER: {
        const id = ins.meterId >>> 0;
        if (id === 0 || (id > OFPM.MAX && id !== OFPM.SLOWPATH && id !== OFPM.CONTROLLER)) {
          throw new OfpError(OFPET.METER_MOD_FAILED, OFPMMFC.INVALID_METER, `meter id 0x${id.toString(16)}`);
        }
        if (!env.hasMeter(id)) throw new OfpError(OFPET.METER_MOD_FAILED, OFPMMFC.UNKNOWN_METER, `meter ${id} does not exist`);
        break;
      }
      case OFPIT.EXPERIMENTER:
        throw new OfpError(OFPET.BAD_INSTRUCTION, OFPBIC.BAD_EXPERIMENTER, `experimenter instruction 0x${ins.experimenter.toString(16)}`);
      default:
        throw new OfpError(OFPET.BAD_INSTRUCTION, OFPBIC.UNKNOWN_INST, `instruction type ${(ins as Instruction).type}`);
    }
  }
}
