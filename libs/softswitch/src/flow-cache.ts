/**
 * The datapath flow cache of an instance, as Open vSwitch's megaflow cache:
 * the pipeline's walk through the flow tables for one packet is recorded
 * with the union of the masks its classifier lookups probed (the bits of
 * the packet's key the answers depended on), and any later packet whose key
 * is equal under that union takes the same flow entries, table by table,
 * without a classifier lookup.
 *
 * Only the choice of entries is cached. Everything else is done per packet
 * as without the cache: meters, group bucket selection, the actions
 * themselves, TTL checks and packet-ins. So the cache changes how fast,
 * never what.
 *
 * Counters, as Open vSwitch keeps them: a hit counts the packet on its
 * megaflow (packets, bytes, time), and sync() folds those counts into the
 * flow entries and tables of the megaflow's steps. The tables call sync()
 * (FlowTableOptions.sync) before anything reads or changes an entry's or a
 * table's counters or last-use time (stats, timeouts, FLOW_REMOVED,
 * flow-mods), and invalidate() does before the generation changes, so
 * whatever is read is exact. A walk being replayed when a sync comes (from
 * its own actions: a transmit listener or controller reacting at once) has
 * entered its steps up to `walkStep` only: the sync folds this packet into
 * those, and the walk counts its later steps one by one (FlowTable.credit),
 * or looks them up if the tables changed.
 *
 * A megaflow records a prefix of the walk: recording stops before a lookup
 * whose key an earlier action may have changed in a way the original key does
 * not determine (an apply-actions header action, a meter that may remark
 * DSCP), and the tables after the recorded steps are looked up as usual.
 * Write-metadata is fine: the new metadata is a function of the old one
 * (under the recorded mask) and of the entry.
 *
 * A megaflow whose whole walk is plain forwarding (only outputs to ports,
 * done at the last step or by the action set; no meter, group, header action
 * or packet-in) also gets a plan: the ports, in order. A hit on it enters
 * every step at once (the replay would have entered them all before its
 * first output) and outputs, without running the steps (Pipeline.forward);
 * the per-packet port checks still happen in the output itself.
 *
 * Invalidation is by generation: any change of a flow table, group, meter or
 * port (the instance calls invalidate()) empties the cache before the next
 * packet uses it; plans go with their megaflows.
 */
import { Classifier, ClassifierRule, CompiledMatch } from './classifier.js';
import type { FlowEntry, FlowTable } from './flow-table.js';
import { KEY_WORDS } from './key.js';

/** A cached walk: the entry each table visited matched (null: a miss there), in visiting order. */
export class Megaflow implements ClassifierRule {
  readonly priority = 0;
  clsSubtable: object | null = null;
  clsSlot = -1;
  /** Packets that took this walk since its counts were last folded into the steps (sync), their bytes, and the clock time of the last. */
  packets = 0;
  bytes = 0;
  used = 0;
  /** The last step's index; and the plan's one port (plan of length 1), or -1: kept here, where a hit already reads, rather than in arrays elsewhere in memory. */
  readonly lastStep: number;
  readonly planPort: number;

  constructor(
    readonly steps: readonly (FlowEntry | null)[],
    /** The table of each step. */
    readonly tables: readonly FlowTable[],
    /**
     * The pipeline's compiled instructions of each step's entry (null for a
     * miss), so that a replay does not go through the entries: valid while
     * the generation is unchanged (a MODIFY invalidates).
     */
    readonly programs: readonly unknown[],
    /**
     * The walk's whole effect when it is plain forwarding (Pipeline.planOf):
     * the ports to output to, in order, once every step is entered; null
     * when the steps must be run one by one.
     */
    readonly plan: readonly number[] | null = null,
  ) {
    this.lastStep = steps.length - 1;
    this.planPort = plan !== null && plan.length === 1 ? plan[0] : -1;
  }
}

export interface FlowCacheStats {
  /** Megaflows cached now. */
  readonly entries: number;
  /** Distinct megaflow masks now. */
  readonly masks: number;
  readonly hits: number;
  readonly misses: number;
  /** Hits whose megaflow had a plan (Megaflow.plan): forwarded without running the steps. */
  readonly forwarded: number;
  /** Times the cache was emptied (a table, group, meter or port change, or the cache filling up). */
  readonly flushes: number;
}

export const DEFAULT_FLOW_CACHE_SIZE = 65536;

export class FlowCache {
  private cls = new Classifier<Megaflow>();
  /** Bumped by invalidate(); the cache is emptied lazily when it differs from `builtFor`. */
  private gen = 0;
  private builtFor = 0;
  /** The generation a recording began in: a change meanwhile voids it. */
  private recordedIn = 0;
  /** A walk is being recorded (the scratch below is in use). */
  recording = false;
  hits = 0;
  misses = 0;
  forwarded = 0;
  flushes = 0;
  /** The key of the packet being recorded, as it arrived (the pipeline edits the live key). */
  private readonly origKey = new Uint32Array(KEY_WORDS);
  /** The union of the masks probed while recording (FlowTable.lookupTrace accumulates into it). */
  readonly mask = new Uint32Array(KEY_WORDS);
  /** The walk being recorded: the entry (null: a miss) and table of each step. */
  readonly recEntries: (FlowEntry | null)[] = [];
  readonly recTables: FlowTable[] = [];
  readonly recPrograms: unknown[] = [];
  /** The plan of the walk being recorded, set by the pipeline before end(). */
  recPlan: readonly number[] | null = null;
  /** Megaflows with counts not yet folded into their steps. */
  private dirty: Megaflow[] = [];
  /**
   * The walk being replayed with its counts on its megaflow (see enter()),
   * null if none; the last step it has entered; its packet's bytes; the
   * megaflow's `used` before it; and whether a sync has already folded it
   * (the walk then counts its later steps itself).
   */
  walk: Megaflow | null = null;
  walkStep = 0;
  private walkBytes = 0;
  private walkPrevUsed = 0;
  walkSplit = false;

  constructor(readonly maxEntries: number = DEFAULT_FLOW_CACHE_SIZE) {}

  /** Changes with every invalidate(): a walk that sees it change stops trusting the cache. */
  get generation(): number {
    return this.gen;
  }

  /** Something the cached walks depend on changed: nothing cached so far may be used. */
  invalidate(): void {
    this.sync();
    this.gen++;
  }

  /**
   * A packet of `bytes` bytes takes megaflow `mf` at clock time `now`, as
   * the walk the pipeline replays: counted on the megaflow. The caller ends
   * the walk with leave().
   */
  enter(mf: Megaflow, bytes: number, now: number): void {
    if (mf.packets === 0) this.dirty.push(mf);
    this.walkPrevUsed = mf.used;
    mf.packets++;
    mf.bytes += bytes;
    mf.used = now;
    this.walk = mf;
    this.walkStep = 0;
    this.walkBytes = bytes;
    this.walkSplit = false;
  }

  leave(): void {
    this.walk = null;
    this.walkSplit = false;
  }

  /** Folds the megaflows' counts into their entries and tables. */
  sync(): void {
    const dirty = this.dirty;
    if (dirty.length === 0) return;
    this.dirty = [];
    for (let i = 0; i < dirty.length; i++) {
      const mf = dirty[i];
      const p = mf.packets;
      const b = mf.bytes;
      mf.packets = 0;
      mf.bytes = 0;
      if (mf === this.walk && !this.walkSplit) {
        // The walk under way has entered steps 0..walkStep: its packet counts in those only, and the walk counts the rest itself.
        this.walkSplit = true;
        const k = this.walkStep;
        fold(mf, 0, k + 1, p, b, mf.used);
        if (p > 1) fold(mf, k + 1, mf.steps.length, p - 1, b - this.walkBytes, this.walkPrevUsed);
      } else fold(mf, 0, mf.steps.length, p, b, mf.used);
    }
  }

  /** The megaflow covering `key`, or undefined (a miss, counted). */
  lookup(key: Uint32Array): Megaflow | undefined {
    if (this.builtFor !== this.gen) this.flush();
    const m = this.cls.lookup(key);
    if (m === undefined) this.misses++;
    else this.hits++;
    return m;
  }

  /** Starts recording a walk for `key` (after a lookup() miss). */
  begin(key: Uint32Array): void {
    this.recording = true;
    this.recordedIn = this.gen;
    this.recPlan = null;
    this.origKey.set(key);
    this.mask.fill(0);
  }

  /** Ends the recording: caches the walk (recEntries/recTables/recPrograms, `mask` accumulated since begin()) unless the cache changed meanwhile. */
  end(): void {
    this.recording = false;
    const steps = this.recEntries.slice();
    const tables = this.recTables.slice();
    const programs = this.recPrograms.slice();
    const plan = this.recPlan;
    this.recPlan = null;
    this.recEntries.length = 0;
    this.recTables.length = 0;
    this.recPrograms.length = 0;
    if (steps.length === 0 || this.recordedIn !== this.gen) return;
    if (this.builtFor !== this.gen || this.cls.size >= this.maxEntries) this.flush();
    const mask = this.mask;
    const value = this.origKey;
    const words: number[] = [];
    for (let w = 0; w < KEY_WORDS; w++) {
      if (mask[w] !== 0) words.push(w);
      value[w] &= mask[w];
    }
    const c: CompiledMatch = { value, mask, words };
    // A megaflow of the same mask and value cannot be there (its lookup would have hit); insert would replace it.
    this.cls.insert(c, new Megaflow(steps, tables, programs, plan));
  }

  private flush(): void {
    this.sync();
    this.cls = new Classifier<Megaflow>();
    this.builtFor = this.gen;
    this.flushes++;
  }

  stats(): FlowCacheStats {
    const fresh = this.builtFor === this.gen;
    return {
      entries: fresh ? this.cls.size : 0,
      masks: fresh ? this.cls.subtableCount : 0,
      hits: this.hits,
      misses: this.misses,
      forwarded: this.forwarded,
      flushes: this.flushes,
    };
  }
}

/** Counts `packets` packets of `bytes` bytes in all, the last at `used`, on steps [from, to) of a megaflow. */
function fold(mf: Megaflow, from: number, to: number, packets: number, bytes: number, used: number): void {
  for (let j = from; j < to; j++) {
    const t = mf.tables[j];
    t.lookups += packets;
    const e = mf.steps[j];
    if (e === null) continue;
    t.matched += packets;
    e.packetCount += packets;
    e.byteCount += bytes;
    if (used > e.lastUsed) e.lastUsed = used;
  }
}
