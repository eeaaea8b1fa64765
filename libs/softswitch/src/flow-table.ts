/**
 * One flow table of the emulated NIC: flow entries in a tuple-space
 * classifier, with the flow-mod semantics of OpenFlow 1.3.5 §6.4, counters,
 * timeouts and the flow-stats selection. No I/O: the agent turns what these
 * methods return into messages (FLOW_REMOVED, errors, stats replies).
 *
 * Memory per entry is kept small: the match lives only in the classifier's
 * columns (entry.match is rebuilt from it, in canonical form), identical
 * instruction lists are shared between entries, and the cookie is two
 * 32-bit halves.
 */
import {
  encodeInstructions,
  FlowMod,
  FlowStats,
  FlowStatsRequest,
  Instruction,
  instructionsLength,
  Match,
  OFPAT,
  OFPET,
  OFPFC,
  OFPFF,
  OFPFMFC,
  OFPG,
  OFPIT,
  OFPP,
  OFPRR,
  OfpError,
  Writer,
} from '@nicvisor/openflow';
import { Classifier, ClassifierRule, CompiledMatch, compiledOfDetached, compiledOfRule, compileMatchScratch, decompileMatch, DetachedMatch } from './classifier.js';
import { Clock, splitDuration } from './clock.js';

/**
 * The flow-mod fields a table acts on (table id, buffer id and xid are the
 * agent's business). `cookieHi`/`cookieLo`: the cookie as unsigned 32-bit
 * halves, when the caller has it so (an ADD then never reads `cookie`: no
 * BigInt work per flow-mod).
 */
export type FlowModRequest = Pick<
  FlowMod,
  'command' | 'cookie' | 'cookieMask' | 'idleTimeout' | 'hardTimeout' | 'priority' | 'outPort' | 'outGroup' | 'flags' | 'match' | 'instructions'
> & { readonly cookieHi?: number; readonly cookieLo?: number };

/** The non-strict selection of flow stats, aggregate stats and non-strict MODIFY/DELETE. */
export type FlowSelector = Pick<FlowStatsRequest, 'cookie' | 'cookieMask' | 'outPort' | 'outGroup' | 'match'>;

const ALL_FLAGS = OFPFF.SEND_FLOW_REM | OFPFF.CHECK_OVERLAP | OFPFF.RESET_COUNTS | OFPFF.NO_PKT_COUNTS | OFPFF.NO_BYT_COUNTS;

/**
 * An instruction list shared by every entry whose instructions encode to the
 * same bytes, with the output ports and groups its apply/write actions name.
 */
export class InstructionSet {
  refs = 0;
  /** @internal the pipeline's compiled form of the list (pipeline.ts), made on first use. */
  program: unknown = undefined;
  /**
   * @internal set by the instance's FLOW_MOD fast path: `bytes` decoded to
   * exactly `list`, which passed instruction validation for this table and
   * needs nothing that can change (no group, meter or set-field), so an ADD
   * with the same bytes may skip decoding and validating them.
   */
  wireValid = false;
  readonly outPorts: readonly number[];
  readonly outGroups: readonly number[];

  constructor(
    /** The list's encoding, and its hash: the intern table's key. */
    readonly bytes: Buffer,
    readonly hash: number,
    readonly list: readonly Instruction[],
  ) {
    const ports: number[] = [];
    const groups: number[] = [];
    for (const ins of list) {
      if (ins.type !== OFPIT.APPLY_ACTIONS && ins.type !== OFPIT.WRITE_ACTIONS) continue;
      for (const a of ins.actions) {
        if (a.type === OFPAT.OUTPUT) ports.push(a.port);
        else if (a.type === OFPAT.GROUP) groups.push(a.groupId);
      }
    }
    this.outPorts = ports;
    this.outGroups = groups;
  }
}

/** A flow entry. Read-only to everyone but its FlowTable. */
export class FlowEntry implements ClassifierRule {
  /** @internal classifier bookkeeping */
  clsSubtable: object | null = null;
  /** @internal classifier bookkeeping */
  clsSlot = -1;
  /** @internal the match, kept once the entry has left its table */
  detached: DetachedMatch | null = null;
  /** @internal */
  cookieHi: number;
  /** @internal */
  cookieLo: number;
  /** @internal */
  set: InstructionSet;
  packetCount = 0;
  byteCount = 0;
  /** Clock time (ms) the entry was installed (or last replaced by an ADD). */
  installedAt: number;
  /** Clock time (ms) a packet last matched the entry (installedAt if none has). */
  lastUsed: number;

  constructor(
    readonly priority: number,
    /** The cookie's halves (their sign does not matter: stored as int32). */
    cookieHi: number,
    cookieLo: number,
    /** OFPFF_* as given by the ADD. */
    readonly flags: number,
    /** Seconds, 0 for none. */
    readonly idleTimeout: number,
    readonly hardTimeout: number,
    set: InstructionSet,
    now: number,
  ) {
    this.cookieHi = cookieHi | 0;
    this.cookieLo = cookieLo | 0;
    this.set = set;
    this.installedAt = now;
    this.lastUsed = now;
  }

  get cookie(): bigint {
    return (BigInt(this.cookieHi >>> 0) << 32n) | BigInt(this.cookieLo >>> 0);
  }

  /** The instructions (shared with other entries: do not modify). */
  get instructions(): readonly Instruction[] {
    return this.set.list;
  }

  /** The match in the key layout (fresh arrays). */
  get compiled(): CompiledMatch {
    return this.detached !== null ? compiledOfDetached(this.detached) : compiledOfRule(this);
  }

  /** The match, canonical: fields in OXM id order, full masks dropped, zero-mask fields left out. */
  get match(): Match {
    return decompileMatch(this.compiled);
  }

  /** Time since installation as duration_sec/duration_nsec. */
  duration(now: number): { sec: number; nsec: number } {
    return splitDuration(now - this.installedAt);
  }
}

/** An entry taken out of a table, why (OFPRR_*), and when (clock ms). */
export interface RemovedFlow {
  readonly entry: FlowEntry;
  readonly reason: number;
  readonly at: number;
}

/** What a flow-mod did. */
export interface FlowModOutcome {
  /** ADD: the new entry. */
  added?: FlowEntry;
  /** ADD: the entry with the same match and priority that the new one replaced (no FLOW_REMOVED is due). */
  replaced?: FlowEntry;
  /** MODIFY, MODIFY_STRICT: the entries whose instructions were replaced. */
  modified: FlowEntry[];
  /** DELETE, DELETE_STRICT: the entries removed, reason OFPRR_DELETE. */
  removed: RemovedFlow[];
}

export interface AggregateCounts {
  packetCount: bigint;
  byteCount: bigint;
  flowCount: number;
}

export interface FlowTableOptions {
  tableId?: number;
  /** ADD of a new entry beyond this many fails with OFPFMFC_TABLE_FULL. */
  maxEntries?: number;
  /** Called after every change of the table's entries (added, replaced, modified, removed): a datapath cache's invalidation. */
  onChange?: () => void;
  /**
   * Called before the table reads or changes its entries' counters or its
   * own (stats, timeouts, flow-mods): a datapath cache that keeps counts of
   * its own (flow-cache.ts) folds them into the entries and tables here.
   */
  sync?: () => void;
}

function noop(): void {}

/** The empty lists of a FlowModOutcome (shared: never changed). */
const NO_ENTRIES: FlowEntry[] = Object.freeze([]) as unknown as FlowEntry[];
const NO_REMOVED: RemovedFlow[] = Object.freeze([]) as unknown as RemovedFlow[];

/** Are a's bytes b's `len` bytes from `from`? */
function sameBytes(a: Uint8Array, b: Uint8Array, len: number, from = 0): boolean {
  if (a.length !== len) return false;
  for (let i = 0; i < len; i++) if (a[i] !== b[from + i]) return false;
  return true;
}

/** FNV-1a of b's `len` bytes from `from`, seeded with the length. */
function hashBytes(b: Uint8Array, from: number, len: number): number {
  let h = 0x811c9dc5 ^ len;
  for (let i = from, end = from + len; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h;
}

function fail(code: number, detail: string): OfpError {
  return new OfpError(OFPET.FLOW_MOD_FAILED, code, detail);
}

/** (entry.cookie & mask) == (cookie & mask), on 32-bit halves. */
class CookieFilter {
  private readonly hi: number;
  private readonly lo: number;
  private readonly mhi: number;
  private readonly mlo: number;

  constructor(cookie: bigint, mask: bigint) {
    this.mhi = Number((mask >> 32n) & 0xffffffffn) | 0;
    this.mlo = Number(mask & 0xffffffffn) | 0;
    this.hi = Number((cookie >> 32n) & 0xffffffffn) & this.mhi;
    this.lo = Number(cookie & 0xffffffffn) & this.mlo;
  }

  get empty(): boolean {
    return this.mhi === 0 && this.mlo === 0;
  }

  test(e: FlowEntry): boolean {
    return (e.cookieHi & this.mhi) === this.hi && (e.cookieLo & this.mlo) === this.lo;
  }
}

export class FlowTable {
  readonly tableId: number;
  maxEntries: number;
  /** @internal packets looked up in this table (lookupCount without the sync), and those that matched an entry. */
  lookups = 0;
  /** @internal */
  matched = 0;
  private readonly cls = new Classifier<FlowEntry>();
  /** Entries with an idle or hard timeout. */
  private readonly timed = new Set<FlowEntry>();
  /** Interned instruction sets by the hash of their encoding (a list only when hashes collide). */
  private readonly sets = new Map<number, InstructionSet | InstructionSet[]>();
  private scratch = new Writer(256);
  /** The instructions' wire bytes of the flow-mod being applied, if the caller had them (apply). */
  private wire: Uint8Array | undefined = undefined;
  /** Where the instructions begin in `wire` (they run to its end). */
  private wireAt = 0;
  /** The interned set of `wire`, if the caller found it (internedSet) just before apply. */
  private wireSet: InstructionSet | undefined = undefined;
  private readonly changed: () => void;
  private readonly sync: () => void;

  constructor(
    private readonly clock: Clock,
    options: FlowTableOptions = {},
  ) {
    this.tableId = options.tableId ?? 0;
    this.maxEntries = options.maxEntries ?? Infinity;
    this.changed = options.onChange ?? noop;
    this.sync = options.sync ?? noop;
  }

  /** Packets looked up in this table. */
  get lookupCount(): number {
    this.sync();
    return this.lookups;
  }

  /** Packets looked up in this table that matched an entry. */
  get matchedCount(): number {
    this.sync();
    return this.matched;
  }

  /** Active entries. */
  get size(): number {
    return this.cls.size;
  }

  /** Subtables (distinct masks) in the classifier. */
  get maskCount(): number {
    return this.cls.subtableCount;
  }

  /**
   * Applies a flow-mod; throws OfpError (OFPET_BAD_MATCH, OFPET_FLOW_MOD_FAILED) without changing anything.
   * `compiled`, when given, is fm.match already compiled (compileMatch or compileMatchScratch); it is not kept.
   * `instructionBytes`, when given, is fm.instructions as they came on the wire (the FLOW_MOD's
   * bytes after its match): interned as they are instead of being encoded again; not kept.
   * `instructionSet`: internedSet(instructionBytes, instructionStart), when the caller looked it up.
   * `instructionStart`: where the instructions begin in `instructionBytes` (they run to its end).
   */
  apply(
    fm: FlowModRequest,
    now: number = this.clock.now(),
    compiled?: CompiledMatch,
    instructionBytes?: Uint8Array,
    instructionSet?: InstructionSet,
    instructionStart = 0,
  ): FlowModOutcome {
    this.wire = instructionBytes;
    this.wireAt = instructionStart;
    this.wireSet = instructionBytes === undefined ? undefined : instructionSet;
    try {
      return this.applyNow(fm, now, compiled);
    } finally {
      this.wire = undefined;
      this.wireAt = 0;
      this.wireSet = undefined;
    }
  }

  /** @internal The interned set whose bytes are b's from `from` to its end (instruction bytes as on the wire), if the table holds one. */
  internedSet(b: Uint8Array, from = 0): InstructionSet | undefined {
    const len = b.length - from;
    const there = this.sets.get(hashBytes(b, from, len));
    if (there === undefined) return undefined;
    if (!Array.isArray(there)) return sameBytes(there.bytes, b, len, from) ? there : undefined;
    for (const x of there) if (sameBytes(x.bytes, b, len, from)) return x;
    return undefined;
  }

  private applyNow(fm: FlowModRequest, now: number, compiled: CompiledMatch | undefined): FlowModOutcome {
    if ((fm.flags & ~ALL_FLAGS) !== 0) throw fail(OFPFMFC.BAD_FLAGS, `unknown flags 0x${fm.flags.toString(16)}`);
    this.sync();
    switch (fm.command) {
      case OFPFC.ADD:
        return this.add(fm, now, compiled ?? compileMatchScratch(fm.match));
      case OFPFC.MODIFY:
      case OFPFC.MODIFY_STRICT:
        return this.modify(fm, fm.command === OFPFC.MODIFY_STRICT, compiled ?? compileMatchScratch(fm.match));
      case OFPFC.DELETE:
      case OFPFC.DELETE_STRICT:
        return this.delete(fm, fm.command === OFPFC.DELETE_STRICT, now, compiled ?? compileMatchScratch(fm.match));
      default:
        throw fail(OFPFMFC.BAD_COMMAND, `flow-mod command ${fm.command}`);
    }
  }

  private add(fm: FlowModRequest, now: number, c: CompiledMatch): FlowModOutcome {
    if ((fm.flags & OFPFF.CHECK_OVERLAP) !== 0 && this.cls.overlapping(c, fm.priority) !== undefined) {
      throw fail(OFPFMFC.OVERLAP, `an entry of priority ${fm.priority} overlaps the match`);
    }
    let hi = fm.cookieHi;
    let lo = fm.cookieLo;
    if (hi === undefined || lo === undefined) {
      const cookie = fm.cookie;
      hi = cookie === 0n ? 0 : Number((cookie >> 32n) & 0xffffffffn);
      lo = cookie === 0n ? 0 : Number(cookie & 0xffffffffn);
    }
    const entry = new FlowEntry(fm.priority, hi, lo, fm.flags, fm.idleTimeout, fm.hardTimeout, this.intern(fm.instructions), now);
    const existing = this.cls.insert(c, entry);
    if (existing === undefined && this.cls.size > this.maxEntries) {
      this.cls.remove(entry);
      this.drop(entry.set);
      throw fail(OFPFMFC.TABLE_FULL, `table ${this.tableId} holds ${this.cls.size} entries`);
    }
    if (entry.idleTimeout !== 0 || entry.hardTimeout !== 0) this.timed.add(entry);
    this.changed();
    if (existing === undefined) return { added: entry, modified: NO_ENTRIES, removed: NO_REMOVED };
    if ((fm.flags & OFPFF.RESET_COUNTS) === 0) {
      entry.packetCount = existing.packetCount;
      entry.byteCount = existing.byteCount;
    }
    // The new entry took the existing one's slot: the same match.
    existing.detached = this.cls.detach(entry);
    this.release(existing);
    return { added: entry, replaced: existing, modified: NO_ENTRIES, removed: NO_REMOVED };
  }

  private modify(fm: FlowModRequest, strict: boolean, c: CompiledMatch): FlowModOutcome {
    const cookie = new CookieFilter(fm.cookie, fm.cookieMask);
    const targets = this.pick(c, strict ? fm.priority : -1).filter((e) => cookie.test(e));
    if (targets.length === 0) return { modified: NO_ENTRIES, removed: NO_REMOVED };
    this.changed();
    const set = this.intern(fm.instructions);
    for (const e of targets) {
      set.refs++;
      this.drop(e.set);
      e.set = set;
      if ((fm.flags & OFPFF.RESET_COUNTS) !== 0) {
        e.packetCount = 0;
        e.byteCount = 0;
      }
    }
    this.drop(set); // intern() counted one reference for a new entry
    return { modified: targets, removed: NO_REMOVED };
  }

  private delete(fm: FlowModRequest, strict: boolean, now: number, c: CompiledMatch): FlowModOutcome {
    const targets = this.pick(c, strict ? fm.priority : -1).filter(this.filter(fm));
    return { modified: NO_ENTRIES, removed: this.remove(targets, OFPRR.DELETE, now) };
  }

  /** Strict (priority ≥ 0: same match and priority) or non-strict (equal or more specific match) selection. */
  private pick(c: CompiledMatch, priority: number): FlowEntry[] {
    if (priority < 0) return this.cls.covered(c);
    const e = this.cls.find(c, priority);
    return e === undefined ? [] : [e];
  }

  /** The cookie, out_port and out_group filters of a selector. */
  private filter(sel: Omit<FlowSelector, 'match'>): (e: FlowEntry) => boolean {
    const cookie = new CookieFilter(sel.cookie, sel.cookieMask);
    const port = sel.outPort >>> 0;
    const group = sel.outGroup >>> 0;
    return (e) =>
      (cookie.empty || cookie.test(e)) &&
      (port === OFPP.ANY || e.set.outPorts.includes(port)) &&
      (group === OFPG.ANY || e.set.outGroups.includes(group));
  }

  /**
   * Takes entries out of the table (DELETE, timeouts, or the agent's own
   * reasons such as OFPRR_GROUP_DELETE); returns those that were in it.
   */
  remove(entries: readonly FlowEntry[], reason: number, now: number = this.clock.now()): RemovedFlow[] {
    this.sync();
    const out: RemovedFlow[] = [];
    for (const e of entries) {
      if (!this.cls.contains(e)) continue;
      e.detached = this.cls.detach(e);
      this.cls.remove(e);
      this.release(e);
      out.push({ entry: e, reason, at: now });
    }
    if (out.length > 0) this.changed();
    return out;
  }

  private release(e: FlowEntry): void {
    this.timed.delete(e);
    this.drop(e.set);
  }

  /** The shared InstructionSet for this list, with one more reference. */
  private intern(list: readonly Instruction[]): InstructionSet {
    const known = this.wireSet;
    if (known !== undefined && known.refs > 0) {
      known.refs++;
      return known;
    }
    let b: Uint8Array;
    let len: number;
    let from = 0;
    if (this.wire !== undefined) {
      // As they came: equal lists may come as different bytes (padding), which only costs sharing.
      b = this.wire;
      from = this.wireAt;
      len = b.length - from;
    } else {
      len = instructionsLength(list);
      if (this.scratch.buf.length < len) this.scratch = new Writer(Math.max(len, 2 * this.scratch.buf.length));
      const w = this.scratch;
      w.pos = 0;
      encodeInstructions(list, w);
      b = w.buf;
    }
    const h = hashBytes(b, from, len);
    const there = this.sets.get(h);
    let set: InstructionSet | undefined;
    if (there !== undefined) {
      if (Array.isArray(there)) {
        for (const x of there) if (sameBytes(x.bytes, b, len, from)) set = x;
      } else if (sameBytes(there.bytes, b, len, from)) set = there;
    }
    if (set === undefined) {
      set = new InstructionSet(Buffer.from(b.subarray(from, from + len)), h, Object.freeze([...list]));
      if (there === undefined) this.sets.set(h, set);
      else if (Array.isArray(there)) there.push(set);
      else this.sets.set(h, [there, set]);
    }
    set.refs++;
    return set;
  }

  private drop(set: InstructionSet): void {
    if (--set.refs !== 0) return;
    const there = this.sets.get(set.hash);
    if (there === set) this.sets.delete(set.hash);
    else if (Array.isArray(there)) {
      const rest = there.filter((x) => x !== set);
      if (rest.length === 1) this.sets.set(set.hash, rest[0]);
      else this.sets.set(set.hash, rest);
    }
  }

  /**
   * The datapath: the best entry for the key, counting the packet (`bytes`
   * long) against it and the table, or undefined on a miss.
   */
  lookup(key: Uint32Array, bytes: number, now?: number): FlowEntry | undefined {
    this.lookups++;
    const e = this.cls.lookup(key);
    if (e === undefined) return undefined;
    this.matched++;
    e.packetCount++;
    e.byteCount += bytes;
    e.lastUsed = now ?? this.clock.now();
    return e;
  }

  /**
   * lookup(), and ORs into `acc` the mask bits the answer depends on (see
   * Classifier.lookupTrace): how a megaflow cache learns its masks.
   */
  lookupTrace(key: Uint32Array, bytes: number, now: number, acc: Uint32Array): FlowEntry | undefined {
    this.lookups++;
    const e = this.cls.lookupTrace(key, acc);
    if (e === undefined) return undefined;
    this.matched++;
    e.packetCount++;
    e.byteCount += bytes;
    e.lastUsed = now;
    return e;
  }

  /**
   * Counts a packet as lookup() would have for a lookup whose answer is
   * already known (a datapath cache hit): `e` is the entry it matched, or
   * null for a miss. The caller guarantees `e` is still in this table.
   */
  credit(e: FlowEntry | null, bytes: number, now: number): void {
    this.lookups++;
    if (e === null) return;
    this.matched++;
    e.packetCount++;
    e.byteCount += bytes;
    e.lastUsed = now;
  }

  /** The best entry for the key, without counting anything. */
  peek(key: Uint32Array): FlowEntry | undefined {
    return this.cls.lookup(key);
  }

  /**
   * Removes the entries whose idle or hard timeout has passed at `now`;
   * each comes back with OFPRR_IDLE_TIMEOUT or OFPRR_HARD_TIMEOUT (the one
   * that ran out first; hard when both did at once).
   */
  expire(now: number = this.clock.now()): RemovedFlow[] {
    this.sync();
    const idle: FlowEntry[] = [];
    const hard: FlowEntry[] = [];
    for (const e of this.timed) {
      const hardAt = e.hardTimeout !== 0 ? e.installedAt + e.hardTimeout * 1000 : Infinity;
      const idleAt = e.idleTimeout !== 0 ? e.lastUsed + e.idleTimeout * 1000 : Infinity;
      if (hardAt <= now && hardAt <= idleAt) hard.push(e);
      else if (idleAt <= now) idle.push(e);
    }
    return [...this.remove(hard, OFPRR.HARD_TIMEOUT, now), ...this.remove(idle, OFPRR.IDLE_TIMEOUT, now)];
  }

  /** The earliest clock time an entry can time out (Infinity if none has a timeout). */
  nextExpiry(): number {
    this.sync();
    let t = Infinity;
    for (const e of this.timed) {
      if (e.hardTimeout !== 0) t = Math.min(t, e.installedAt + e.hardTimeout * 1000);
      if (e.idleTimeout !== 0) t = Math.min(t, e.lastUsed + e.idleTimeout * 1000);
    }
    return t;
  }

  /** The entries a flow-stats request selects (non-strict match, cookie, out_port, out_group). */
  select(sel: FlowSelector): FlowEntry[] {
    this.sync();
    return this.cls.covered(compileMatchScratch(sel.match)).filter(this.filter(sel));
  }

  /** Totals over the entries an aggregate-stats request selects. */
  aggregate(sel: FlowSelector): AggregateCounts {
    let packets = 0;
    let bytes = 0;
    const list = this.select(sel);
    for (const e of list) {
      packets += e.packetCount;
      bytes += e.byteCount;
    }
    return { packetCount: BigInt(packets), byteCount: BigInt(bytes), flowCount: list.length };
  }

  /** The entry with exactly this match and priority. */
  find(match: Match, priority: number): FlowEntry | undefined {
    this.sync();
    return this.cls.find(compileMatchScratch(match), priority);
  }

  /** Every entry (a snapshot). */
  entries(): FlowEntry[] {
    this.sync();
    return this.cls.all();
  }

  /** One ofp_flow_stats for an entry of this table. */
  statsOf(e: FlowEntry, now: number = this.clock.now()): FlowStats {
    this.sync();
    const d = e.duration(now);
    return {
      tableId: this.tableId,
      durationSec: d.sec,
      durationNsec: d.nsec,
      priority: e.priority,
      idleTimeout: e.idleTimeout,
      hardTimeout: e.hardTimeout,
      flags: e.flags,
      cookie: e.cookie,
      packetCount: BigInt(e.packetCount),
      byteCount: BigInt(e.byteCount),
      match: e.match,
      instructions: [...e.instructions],
    };
  }

  /** Removes every entry without reporting them. */
  clear(): void {
    this.sync();
    this.cls.clear();
    this.timed.clear();
    this.sets.clear();
    this.changed();
  }
}
