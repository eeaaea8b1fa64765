/**
 * The shadow: every flow, group and meter nicvisor installed on each
 * instance, in physical terms, with who installed it (the operator or the
 * vNF). Updated only with what the NIC confirmed (a later barrier answered
 * without an error), so quotas count what is really installed; used for
 * inspection and for the resync after a NIC instance reconnects.
 *
 * In memory for the hot path, compactly: a flow is kept as the encoded
 * OFPFC_ADD that reinstalls it (the very bytes the store persists), its
 * owner and the hash of its key (FlowSet); the decoded form is made only
 * when someone inspects it (`flows()`, change events) or a MODIFY/DELETE has
 * to look inside it. Every change is also handed to an optional `ShadowSink`
 * (the SQLite store), which batches and writes on `flush()`.
 *
 * Flow-mod semantics follow §6.4: ADD replaces an entry with the same table,
 * priority and match; MODIFY/DELETE select by match (non-strict: every
 * entry at least as specific; strict: same priority and match), cookie and
 * cookie mask, and for deletes out_port / out_group.
 */
import {
  Action,
  decodeMessage,
  encodeMessage,
  encodeOxm,
  FLOW_MOD_AT,
  FlowMod,
  FlowRemoved,
  GroupMod,
  Instruction,
  Match,
  MeterMod,
  OFPAT,
  OFPFC,
  OFPFF,
  OFPG,
  OFPGC,
  OFPIT,
  OFPM,
  OFPMC,
  OFPP,
  OFPTT,
  oxmLength,
  OxmTlv,
  Writer,
} from '@nicvisor/openflow';
import { writeCanonicalOxms } from '@nicvisor/storage/flow-key.js';

/** 'operator', or the vNF's name. */
export type Owner = string;
export const OPERATOR_OWNER: Owner = 'operator';

export interface ShadowFlow {
  key: string;
  owner: Owner;
  tableId: number;
  priority: number;
  cookie: bigint;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  match: Match;
  instructions: Instruction[];
}

export interface ShadowGroup {
  owner: Owner;
  groupId: number;
  groupType: number;
  buckets: GroupMod['buckets'];
}

export interface ShadowMeter {
  owner: Owner;
  meterId: number;
  flags: number;
  bands: MeterMod['bands'];
}

/** What a sink had persisted for a datapath (loaded when the shadow first needs it). */
export interface PersistedShadow {
  /** Each flow as its encoded OFPFC_ADD (decoded once by the sink, to check it), and the row it is in. */
  flows: Array<{ owner: Owner; flowMod: Buffer; rowId: number }>;
  groups: Array<{ owner: Owner; groupMod: GroupMod }>;
  meters: Array<{ owner: Owner; meterMod: MeterMod }>;
}

/** Where shadow changes are persisted (batched; `flush` commits). */
export interface ShadowSink {
  /** What was persisted for the datapath, read once when the shadow first touches it (after a restart). */
  load?(datapathId: bigint): PersistedShadow | undefined;
  /** A flow added or changed: persisted in row `f.rowId`, which the sink sets when it is 0. */
  flowPut(datapathId: bigint, f: FlowEntry): void;
  /** A flow is gone: its row (if it has one) is deleted. */
  flowDelete(datapathId: bigint, f: FlowEntry): void;
  groupPut(datapathId: bigint, g: ShadowGroup): void;
  groupDelete(datapathId: bigint, groupId: number): void;
  meterPut(datapathId: bigint, m: ShadowMeter): void;
  meterDelete(datapathId: bigint, meterId: number): void;
  clear(datapathId: bigint): void;
  flush(): void | Promise<void>;
}

/** Shadow changes, for the events stream of the orchestrator API. */
export type ShadowChange =
  | { kind: 'flow-added' | 'flow-modified' | 'flow-removed'; datapathId: bigint; flow: ShadowFlow }
  | { kind: 'group-added' | 'group-removed'; datapathId: bigint; group: ShadowGroup }
  | { kind: 'meter-added' | 'meter-removed'; datapathId: bigint; meter: ShadowMeter };

interface Field {
  id: string;
  value: Buffer;
  mask: Buffer | undefined;
}

/** One TLV as class:field, value bytes, mask bytes. */
function fieldOf(tlv: OxmTlv): Field {
  const w = new Writer(oxmLength(tlv));
  encodeOxm(tlv, w);
  return fieldAt(w.buf, 0);
}

/** The TLV at `p` of `b` (wire bytes) as class:field, value bytes, mask bytes. */
function fieldAt(b: Buffer, p: number): Field {
  const id = `${b.readUInt16BE(p)}:${b[p + 2] >>> 1}`;
  const hasMask = (b[p + 2] & 1) === 1;
  const len = b[p + 3];
  if (!hasMask) return { id, value: b.subarray(p + 4, p + 4 + len), mask: undefined };
  const half = len >>> 1;
  return { id, value: b.subarray(p + 4, p + 4 + half), mask: b.subarray(p + 4 + half, p + 4 + len) };
}

/**
 * A flow's key — its table, priority and canonical match, which identify
 * it (§6.4) — built in a reusable buffer: `bytes[0, length)`.
 */
class KeyScratch {
  bytes = Buffer.allocUnsafe(256);
  length = 0;

  /** The key from the match TLVs `tlvs[start, end)`. */
  write(tableId: number, priority: number, tlvs: Buffer, start: number, end: number): void {
    if (this.bytes.length < 3 + end - start) this.bytes = Buffer.allocUnsafe(2 * (3 + end - start));
    const k = this.bytes;
    k[0] = tableId;
    k[1] = priority >>> 8;
    k[2] = priority & 0xff;
    this.length = writeCanonicalOxms(tlvs, start, end, k, 3);
  }

  /** The key of an encoded flow-mod. */
  writeRaw(raw: Buffer): void {
    this.write(raw[FLOW_MOD_AT.tableId], raw.readUInt16BE(FLOW_MOD_AT.priority), raw, FLOW_MOD_AT.match + 4, FLOW_MOD_AT.match + raw.readUInt16BE(FLOW_MOD_AT.match + 2));
  }

  /** The key of a decoded match. */
  writeMatch(tableId: number, priority: number, match: Match): void {
    const w = new Writer(match.reduce((n, t) => n + oxmLength(t), 0));
    for (const t of match) encodeOxm(t, w);
    this.write(tableId, priority, w.buf, 0, w.pos);
  }

  /** FNV-1a of the key, as a small integer: a Map key compared without following a pointer. */
  hash(): number {
    const k = this.bytes;
    let h = 0x811c9dc5;
    for (let i = 0; i < this.length; i++) h = Math.imul(h ^ k[i], 0x01000193);
    return h | 0;
  }

  equals(o: KeyScratch): boolean {
    if (o.length !== this.length) return false;
    for (let i = 0; i < this.length; i++) if (this.bytes[i] !== o.bytes[i]) return false;
    return true;
  }

  toString(): string {
    return this.bytes.toString('latin1', 0, this.length);
  }
}

/** The key being looked up, and a candidate's, rebuilt to compare with it. */
const KEY = new KeyScratch();
const CANDIDATE = new KeyScratch();

/** The key of the flow with this table, priority and (decoded) match, as a one-byte string (resync's maps, inspection). */
export function flowKey(tableId: number, priority: number, match: Match): string {
  KEY.writeMatch(tableId, priority, match);
  return KEY.toString();
}

/** The TLVs of an encoded flow-mod's match: [start, end). */
function matchTlvs(raw: Buffer): [number, number] {
  return [FLOW_MOD_AT.match + 4, FLOW_MOD_AT.match + raw.readUInt16BE(FLOW_MOD_AT.match + 2)];
}

/** The hash the shadow finds an encoded flow-mod's entry by (its key's FNV-1a). */
export function rawFlowKeyHash(raw: Buffer): number {
  KEY.writeRaw(raw);
  return KEY.hash();
}

/** `flowKey` of an encoded flow-mod, from its bytes. */
export function rawFlowKey(raw: Buffer): string {
  KEY.writeRaw(raw);
  return KEY.toString();
}

/**
 * The NIC removes a flow whose idle or hard timeout expires on its own; for
 * the shadow (quotas, inspection, resync) to hear of it, every OFPFC_ADD with
 * a timeout goes to the NIC with OFPFF_SEND_FLOW_REM set. Sets it in `raw`
 * (an encoded OFPFC_ADD) where it is missing, and says whether it did; the
 * shadow keeps the flags the owner gave, and a FLOW_REMOVED the owner did not
 * ask for goes no further than nicvisor.
 */
export function askFlowRemoved(raw: Buffer): boolean {
  if (raw.readUInt16BE(FLOW_MOD_AT.idleTimeout) === 0 && raw.readUInt16BE(FLOW_MOD_AT.hardTimeout) === 0) return false;
  const flags = raw.readUInt16BE(FLOW_MOD_AT.flags);
  if ((flags & OFPFF.SEND_FLOW_REM) !== 0) return false;
  raw.writeUInt16BE(flags | OFPFF.SEND_FLOW_REM, FLOW_MOD_AT.flags);
  return true;
}

/**
 * Turns an encoded flow-mod, in place, into the OFPFC_ADD that reinstalls
 * the flow it installed: xid 0, no buffer, no cookie mask, out_port and
 * out_group ANY; match and instructions as they are. Returns it.
 */
export function asReinstall(raw: Buffer): Buffer {
  raw.writeUInt32BE(0, 4);
  raw[FLOW_MOD_AT.command] = OFPFC.ADD;
  raw.writeUInt32BE(0, FLOW_MOD_AT.cookieMask);
  raw.writeUInt32BE(0, FLOW_MOD_AT.cookieMask + 4);
  raw.writeUInt32BE(0xffffffff, FLOW_MOD_AT.bufferId);
  raw.writeUInt32BE(OFPP.ANY, FLOW_MOD_AT.outPort);
  raw.writeUInt32BE(OFPG.ANY, FLOW_MOD_AT.outGroup);
  raw[FLOW_MOD_AT.flags + 2] = 0;
  raw[FLOW_MOD_AT.flags + 3] = 0;
  return raw;
}

/**
 * One flow in the shadow, compactly: the OFPFC_ADD that reinstalls it
 * (`raw`, also what the store persists), its owner, and the hash of its key
 * (FlowSet). Table, priority, cookie and the key itself are read from the
 * bytes; the decoded flow is made on demand (`view()`).
 */
export class FlowEntry {
  /** In its datapath's FlowSet. */
  inSet = false;
  /** Another entry has (or had) the same key hash: the set's slow path. */
  collided = false;
  /** The next entry of its FlowSet with the same key hash. */
  sameHash: FlowEntry | undefined = undefined;

  constructor(
    readonly hash: number,
    readonly owner: Owner,
    /** OFPT_FLOW_MOD, OFPFC_ADD, xid 0 (see asReinstall). Never modified. */
    readonly raw: Buffer,
    /** The sink's row for this flow (0 until the sink gives it one); an entry replacing another with the same key takes over its row. */
    public rowId = 0,
  ) {}

  /** Its key (flowKey). */
  get key(): string {
    return rawFlowKey(this.raw);
  }

  get tableId(): number {
    return this.raw[FLOW_MOD_AT.tableId];
  }

  get priority(): number {
    return this.raw.readUInt16BE(FLOW_MOD_AT.priority);
  }

  get cookie(): bigint {
    return this.raw.readBigUInt64BE(FLOW_MOD_AT.cookie);
  }

  get idleTimeout(): number {
    return this.raw.readUInt16BE(FLOW_MOD_AT.idleTimeout);
  }

  get hardTimeout(): number {
    return this.raw.readUInt16BE(FLOW_MOD_AT.hardTimeout);
  }

  get flags(): number {
    return this.raw.readUInt16BE(FLOW_MOD_AT.flags);
  }

  /** The flow-mod, decoded. */
  decode(): FlowMod {
    return decodeMessage(this.raw) as FlowMod;
  }

  /** The flow as a plain decoded object (inspection, events). */
  view(): ShadowFlow {
    return { ...shadowFlowOf(this.decode(), this.owner), key: this.key };
  }
}

/** A flow change; the flow is decoded only if a listener reads it. */
class FlowChange {
  private viewed: ShadowFlow | undefined;

  constructor(
    readonly kind: 'flow-added' | 'flow-modified' | 'flow-removed',
    readonly datapathId: bigint,
    private readonly entry: FlowEntry,
  ) {}

  get flow(): ShadowFlow {
    return (this.viewed ??= this.entry.view());
  }
}

/** Is every packet `entry` matches also matched by `req` (req at most as specific)? */
export function matchCovers(req: Match, entry: Match): boolean {
  if (req.length === 0) return true;
  const w = new Writer(entry.reduce((n, t) => n + oxmLength(t), 0));
  for (const t of entry) encodeOxm(t, w);
  return coversTlvs(req.map(fieldOf), w.buf, 0, w.pos);
}

/** matchCovers, with the request's fields already split and the entry's TLVs as wire bytes `b[start, end)`. */
function coversTlvs(req: readonly Field[], b: Buffer, start: number, end: number): boolean {
  if (req.length === 0) return true;
  const have = new Map<string, Field>();
  for (let p = start; p + 4 <= end; p += 4 + b[p + 3]) {
    const f = fieldAt(b, p);
    have.set(f.id, f);
  }
  for (const r of req) {
    const e = have.get(r.id);
    if (e === undefined) return false;
    for (let i = 0; i < r.value.length; i++) {
      const rm = r.mask === undefined ? 0xff : r.mask[i];
      const em = e.mask === undefined ? 0xff : e.mask[i];
      // The entry must fix every bit the request fixes, to the same value.
      if ((rm & em) !== rm) return false;
      if ((e.value[i] & rm) !== (r.value[i] & rm)) return false;
    }
  }
  return true;
}

function actionsOf(instructions: readonly Instruction[]): Action[] {
  const out: Action[] = [];
  for (const i of instructions) if (i.type === OFPIT.APPLY_ACTIONS || i.type === OFPIT.WRITE_ACTIONS) out.push(...i.actions);
  return out;
}

function outputsTo(instructions: readonly Instruction[], port: number): boolean {
  return actionsOf(instructions).some((a) => a.type === OFPAT.OUTPUT && a.port === port);
}

function groupsTo(instructions: readonly Instruction[], group: number): boolean {
  return actionsOf(instructions).some((a) => a.type === OFPAT.GROUP && a.groupId === group);
}

/**
 * A datapath's flows by key, found by the key's hash: a small integer, so
 * there is no key string per flow and a lookup compares no pointers.
 * Entries whose hashes collide are chained and told apart by their keys,
 * rebuilt from their bytes. Iterates in the order keys were added.
 */
class FlowSet {
  private readonly byHash = new Map<number, FlowEntry>();
  size = 0;

  /** The entry whose key is the one in KEY, hashing to h. */
  find(h: number): FlowEntry | undefined {
    for (let e = this.byHash.get(h); e !== undefined; e = e.sameHash) {
      CANDIDATE.writeRaw(e.raw);
      if (CANDIDATE.equals(KEY)) return e;
    }
    return undefined;
  }

  /** Adds `e`, whose key is not in the set. */
  add(e: FlowEntry): void {
    const head = this.byHash.get(e.hash);
    if (head === undefined) this.byHash.set(e.hash, e);
    else {
      let last = head;
      last.collided = true;
      while (last.sameHash !== undefined) last = last.sameHash;
      last.sameHash = e;
      e.collided = true;
    }
    e.inSet = true;
    this.size++;
  }

  /** Puts `e` in the place of `old`, which has the same key. */
  replace(old: FlowEntry, e: FlowEntry): void {
    e.sameHash = old.sameHash;
    e.collided = old.collided;
    e.inSet = true;
    old.sameHash = undefined;
    old.inSet = false;
    const head = this.byHash.get(old.hash)!;
    if (head === old) this.byHash.set(old.hash, e);
    else {
      let prev = head;
      while (prev.sameHash !== old) prev = prev.sameHash!;
      prev.sameHash = e;
    }
  }

  /** Takes `e` out; false if it was not in the set. */
  delete(e: FlowEntry): boolean {
    if (!e.inSet) return false;
    e.inSet = false;
    this.size--;
    if (!e.collided) {
      this.byHash.delete(e.hash);
      return true;
    }
    const head = this.byHash.get(e.hash)!;
    if (head === e) {
      if (e.sameHash === undefined) this.byHash.delete(e.hash);
      else this.byHash.set(e.hash, e.sameHash);
    } else {
      let prev = head;
      while (prev.sameHash !== e) prev = prev.sameHash!;
      prev.sameHash = e.sameHash;
    }
    e.sameHash = undefined;
    return true;
  }

  /** Every entry, in a fresh array (the set may change while the caller goes through it). */
  all(): FlowEntry[] {
    const out: FlowEntry[] = [];
    for (const head of this.byHash.values()) for (let e: FlowEntry | undefined = head; e !== undefined; e = e.sameHash) out.push(e);
    return out;
  }
}

/** The datapath's entry with this table, priority and (decoded) match. */
function findByMatch(d: DatapathShadow, tableId: number, priority: number, match: Match): FlowEntry | undefined {
  KEY.writeMatch(tableId, priority, match);
  return d.flows.find(KEY.hash());
}

class DatapathShadow {
  readonly flows = new FlowSet();
  readonly groups = new Map<number, ShadowGroup>();
  readonly meters = new Map<number, ShadowMeter>();
  /** owner → installed flow count */
  readonly flowCount = new Map<Owner, number>();
}

export class Shadow {
  private readonly dps = new Map<bigint, DatapathShadow>();
  /** Told about every change (set by the owner of the events stream). */
  onChange: ((c: ShadowChange) => void) | undefined;

  constructor(private readonly sink?: ShadowSink) {}

  private dp(datapathId: bigint): DatapathShadow {
    let d = this.dps.get(datapathId);
    if (d === undefined) {
      this.dps.set(datapathId, (d = new DatapathShadow()));
      const saved = this.sink?.load?.(datapathId);
      if (saved !== undefined) {
        for (const f of saved.flows) {
          const raw = asReinstall(Buffer.from(f.flowMod));
          KEY.writeRaw(raw);
          const entry = new FlowEntry(KEY.hash(), f.owner, raw, f.rowId);
          const twin = d.flows.find(entry.hash);
          // Two rows for one flow (never written so, but cheap to heal): the later row wins, the other goes.
          if (twin !== undefined) this.sink?.flowDelete(datapathId, twin);
          this.putFlow(d, datapathId, entry, twin, false);
        }
        for (const g of saved.groups) d.groups.set(g.groupMod.groupId, { owner: g.owner, groupId: g.groupMod.groupId, groupType: g.groupMod.groupType, buckets: g.groupMod.buckets });
        for (const m of saved.meters) d.meters.set(m.meterMod.meterId, { owner: m.owner, meterId: m.meterMod.meterId, flags: m.meterMod.flags, bands: m.meterMod.bands });
      }
    }
    return d;
  }

  /** Reads the persisted shadow of a datapath now (before its instance connects, so the resync sees it). */
  hydrate(datapathId: bigint): void {
    this.dp(datapathId);
  }

  /** The datapath's flows, decoded (inspection). */
  flows(datapathId: bigint): ShadowFlow[] {
    const d = this.dps.get(datapathId);
    if (d === undefined) return [];
    const out: ShadowFlow[] = [];
    for (const e of d.flows.all()) out.push(e.view());
    return out;
  }

  /** The datapath's flows as kept (encoded; for the resync). */
  entries(datapathId: bigint): FlowEntry[] {
    return this.dps.get(datapathId)?.flows.all() ?? [];
  }

  groups(datapathId: bigint): ShadowGroup[] {
    return [...(this.dps.get(datapathId)?.groups.values() ?? [])];
  }

  meters(datapathId: bigint): ShadowMeter[] {
    return [...(this.dps.get(datapathId)?.meters.values() ?? [])];
  }

  /** What an owner has installed: flow count, group ids, meter ids (tenancy's Usage). */
  usage(datapathId: bigint, owner: Owner): { flows: number; groups: number[]; meters: number[] } {
    const d = this.dps.get(datapathId);
    if (d === undefined) return { flows: 0, groups: [], meters: [] };
    const groups: number[] = [];
    for (const g of d.groups.values()) if (g.owner === owner) groups.push(g.groupId);
    const meters: number[] = [];
    for (const m of d.meters.values()) if (m.owner === owner) meters.push(m.meterId);
    return { flows: d.flowCount.get(owner) ?? 0, groups, meters };
  }

  flowCount(datapathId: bigint, owner: Owner): number {
    return this.dps.get(datapathId)?.flowCount.get(owner) ?? 0;
  }

  /** A flow-mod (physical terms) the NIC confirmed, sent on behalf of `owner`. */
  applyFlowMod(datapathId: bigint, fm: FlowMod, owner: Owner): void {
    switch (fm.command) {
      case OFPFC.ADD:
        this.applyFlowAdd(datapathId, encodeMessage(fm), owner);
        return;
      case OFPFC.MODIFY:
      case OFPFC.MODIFY_STRICT: {
        const d = this.dp(datapathId);
        for (const f of this.select(d, fm, fm.command === OFPFC.MODIFY_STRICT, false)) {
          const g = new FlowEntry(f.hash, f.owner, encodeMessage({ ...f.decode(), instructions: fm.instructions }), f.rowId);
          d.flows.replace(f, g);
          this.sink?.flowPut(datapathId, g);
          this.onChange?.(new FlowChange('flow-modified', datapathId, g));
        }
        return;
      }
      case OFPFC.DELETE:
      case OFPFC.DELETE_STRICT: {
        const d = this.dp(datapathId);
        for (const f of this.select(d, fm, fm.command === OFPFC.DELETE_STRICT, true)) this.dropFlow(d, datapathId, f);
        return;
      }
    }
  }

  /**
   * A confirmed OFPFC_ADD, as bytes: `raw` (physical terms) becomes the
   * shadow's, turned into its reinstall form in place (asReinstall); the
   * caller must not use it afterwards.
   */
  applyFlowAdd(datapathId: bigint, raw: Buffer, owner: Owner): void {
    const d = this.dp(datapathId);
    asReinstall(raw);
    const h = rawFlowKeyHash(raw);
    this.putFlow(d, datapathId, new FlowEntry(h, owner, raw), d.flows.find(h), true);
  }

  /** The NIC removed a flow (timeout, group/meter delete). */
  flowRemoved(datapathId: bigint, fr: FlowRemoved): FlowEntry | undefined {
    const d = this.dps.get(datapathId);
    if (d === undefined) return undefined;
    const f = findByMatch(d, fr.tableId, fr.priority, fr.match);
    if (f !== undefined) this.dropFlow(d, datapathId, f);
    return f;
  }

  /**
   * The flags of a flow the NIC reports (`flags`), as its owner gave them:
   * OFPFF_SEND_FLOW_REM taken out again where only nicvisor asked for it
   * (askFlowRemoved).
   */
  ownersFlags(datapathId: bigint, tableId: number, priority: number, match: Match, flags: number): number {
    if ((flags & OFPFF.SEND_FLOW_REM) === 0) return flags;
    const d = this.dps.get(datapathId);
    const e = d === undefined ? undefined : findByMatch(d, tableId, priority, match);
    return e !== undefined && (e.flags & OFPFF.SEND_FLOW_REM) === 0 ? flags & ~OFPFF.SEND_FLOW_REM : flags;
  }

  /** The owner of a flow entry, by table, priority and match. */
  ownerOfFlow(datapathId: bigint, tableId: number, priority: number, match: Match): Owner | undefined {
    const d = this.dps.get(datapathId);
    return d === undefined ? undefined : findByMatch(d, tableId, priority, match)?.owner;
  }

  applyGroupMod(datapathId: bigint, gm: GroupMod, owner: Owner): void {
    const d = this.dp(datapathId);
    if (gm.command === OFPGC.DELETE) {
      const ids = gm.groupId === OFPG.ALL ? [...d.groups.keys()] : [gm.groupId];
      for (const id of ids) {
        const g = d.groups.get(id);
        if (g === undefined) continue;
        d.groups.delete(id);
        this.sink?.groupDelete(datapathId, id);
        this.onChange?.({ kind: 'group-removed', datapathId, group: g });
        // Deleting a group removes the flows forwarding to it (§6.5).
        for (const f of d.flows.all()) if (groupsTo(f.decode().instructions, id)) this.dropFlow(d, datapathId, f);
      }
      return;
    }
    const g: ShadowGroup = { owner, groupId: gm.groupId, groupType: gm.groupType, buckets: gm.buckets };
    d.groups.set(gm.groupId, g);
    this.sink?.groupPut(datapathId, g);
    this.onChange?.({ kind: 'group-added', datapathId, group: g });
  }

  applyMeterMod(datapathId: bigint, mm: MeterMod, owner: Owner): void {
    const d = this.dp(datapathId);
    if (mm.command === OFPMC.DELETE) {
      const ids = mm.meterId === OFPM.ALL ? [...d.meters.keys()] : [mm.meterId];
      for (const id of ids) {
        const m = d.meters.get(id);
        if (m === undefined) continue;
        d.meters.delete(id);
        this.sink?.meterDelete(datapathId, id);
        this.onChange?.({ kind: 'meter-removed', datapathId, meter: m });
        for (const f of d.flows.all()) {
          if (f.decode().instructions.some((i) => i.type === OFPIT.METER && i.meterId === id)) this.dropFlow(d, datapathId, f);
        }
      }
      return;
    }
    const m: ShadowMeter = { owner, meterId: mm.meterId, flags: mm.flags, bands: mm.bands };
    d.meters.set(mm.meterId, m);
    this.sink?.meterPut(datapathId, m);
    this.onChange?.({ kind: 'meter-added', datapathId, meter: m });
  }

  /** Forgets an instance (destroyed). */
  clear(datapathId: bigint): void {
    this.dps.delete(datapathId);
    this.sink?.clear(datapathId);
  }

  /** Commits batched writes to the sink: a promise while it has something to commit. */
  flush(): void | Promise<void> {
    return this.sink?.flush();
  }

  /** Adds `f`, in the place of `old` (the entry with its key) if there is one. */
  private putFlow(d: DatapathShadow, datapathId: bigint, f: FlowEntry, old: FlowEntry | undefined, persist: boolean): void {
    if (old !== undefined) {
      d.flowCount.set(old.owner, (d.flowCount.get(old.owner) ?? 1) - 1);
      if (persist) f.rowId = old.rowId;
      d.flows.replace(old, f);
    } else {
      d.flows.add(f);
    }
    d.flowCount.set(f.owner, (d.flowCount.get(f.owner) ?? 0) + 1);
    if (!persist) return;
    this.sink?.flowPut(datapathId, f);
    if (this.onChange !== undefined) this.onChange(new FlowChange(old === undefined ? 'flow-added' : 'flow-modified', datapathId, f));
  }

  private dropFlow(d: DatapathShadow, datapathId: bigint, f: FlowEntry): void {
    if (!d.flows.delete(f)) return;
    d.flowCount.set(f.owner, (d.flowCount.get(f.owner) ?? 1) - 1);
    this.sink?.flowDelete(datapathId, f);
    if (this.onChange !== undefined) this.onChange(new FlowChange('flow-removed', datapathId, f));
  }

  private select(d: DatapathShadow, fm: FlowMod, strict: boolean, isDelete: boolean): FlowEntry[] {
    if (strict) {
      const f = findByMatch(d, fm.tableId, fm.priority, fm.match);
      return f !== undefined && this.filters(f, fm, isDelete) ? [f] : [];
    }
    const req = fm.match.map(fieldOf);
    const out: FlowEntry[] = [];
    for (const f of d.flows.all()) {
      if (fm.tableId !== OFPTT.ALL && f.tableId !== fm.tableId) continue;
      if (!this.filters(f, fm, isDelete)) continue;
      const [start, end] = matchTlvs(f.raw);
      if (coversTlvs(req, f.raw, start, end)) out.push(f);
    }
    return out;
  }

  private filters(f: FlowEntry, fm: FlowMod, isDelete: boolean): boolean {
    if (fm.cookieMask !== 0n && (f.cookie & fm.cookieMask) !== (fm.cookie & fm.cookieMask)) return false;
    if (isDelete) {
      const anyPort = fm.outPort >>> 0 === OFPP.ANY;
      const anyGroup = fm.outGroup >>> 0 === OFPG.ANY;
      if (!anyPort || !anyGroup) {
        const instructions = f.decode().instructions;
        if (!anyPort && !outputsTo(instructions, fm.outPort)) return false;
        if (!anyGroup && !groupsTo(instructions, fm.outGroup)) return false;
      }
    }
    return true;
  }
}

/** The shadow entry a confirmed ADD makes. */
export function shadowFlowOf(fm: FlowMod, owner: Owner): ShadowFlow {
  return {
    key: flowKey(fm.tableId, fm.priority, fm.match),
    owner,
    tableId: fm.tableId,
    priority: fm.priority,
    cookie: fm.cookie,
    idleTimeout: fm.idleTimeout,
    hardTimeout: fm.hardTimeout,
    flags: fm.flags,
    match: fm.match,
    instructions: fm.instructions,
  };
}
