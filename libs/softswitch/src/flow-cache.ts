/**
 * The datapath flow cache of an instance, as Open vSwitch's megaflow cache:
 * the pipeline's walk through the flow tables for one packet is recorded
 * with the union of the masks its classifier lookups probed (the bits of
 * the packet's key the answers depended on), and any later packet whose key
 * is equal under that union takes the same flow entries, table by table,
 * without a classifier lookup.
 *
 * Only the choice of entries is cached. Everything else is done per packet
 * as without the cache: the entries' and tables' counters (FlowTable.credit),
 * meters, group bucket selection, the actions themselves, TTL checks and
 * packet-ins. So the cache changes how fast, never what.
 *
 * A megaflow records a prefix of the walk: recording stops before a lookup
 * whose key an earlier action may have changed in a way the original key does
 * not determine (an apply-actions header action, a meter that may remark
 * DSCP), and the tables after the recorded steps are looked up as usual.
 * Write-metadata is fine: the new metadata is a function of the old one
 * (under the recorded mask) and of the entry.
 *
 * Invalidation is by generation: any change of a flow table, group, meter or
 * port (the instance calls invalidate()) empties the cache before the next
 * packet uses it.
 */
import { Classifier, ClassifierRule, CompiledMatch } from './classifier.js';
import type { FlowEntry } from './flow-table.js';
import { KEY_WORDS } from './key.js';

/** A cached walk: the entry each table visited matched (null: a miss there), in visiting order. */
export class Megaflow implements ClassifierRule {
  readonly priority = 0;
  clsSubtable: object | null = null;
  clsSlot = -1;

  constructor(readonly steps: readonly (FlowEntry | null)[]) {}
}

export interface FlowCacheStats {
  /** Megaflows cached now. */
  readonly entries: number;
  /** Distinct megaflow masks now. */
  readonly masks: number;
  readonly hits: number;
  readonly misses: number;
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
  flushes = 0;
  /** The key of the packet being recorded, as it arrived (the pipeline edits the live key). */
  private readonly origKey = new Uint32Array(KEY_WORDS);
  /** The union of the masks probed while recording (FlowTable.lookupTrace accumulates into it). */
  readonly mask = new Uint32Array(KEY_WORDS);

  constructor(readonly maxEntries: number = DEFAULT_FLOW_CACHE_SIZE) {}

  /** Changes with every invalidate(): a walk that sees it change stops trusting the cache. */
  get generation(): number {
    return this.gen;
  }

  /** Something the cached walks depend on changed: nothing cached so far may be used. */
  invalidate(): void {
    this.gen++;
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
    this.origKey.set(key);
    this.mask.fill(0);
  }

  /** Ends the recording: caches the walk (the entries matched, `mask` accumulated since begin()) unless the cache changed meanwhile. */
  end(steps: readonly (FlowEntry | null)[]): void {
    this.recording = false;
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
    this.cls.insert(c, new Megaflow(steps));
  }

  private flush(): void {
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
      flushes: this.flushes,
    };
  }
}
