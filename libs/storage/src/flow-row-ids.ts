/**
 * Hands out the ids of one instance's shadow flow rows: instance number ×
 * 2^32 + an entry number. The lowest freed entry number is handed out again
 * first, so the entry numbers stay below the most flows the instance has
 * held at once since the store was opened (plus the gaps it was opened
 * with), and a burst of new flows after a burst of deletes gets ascending
 * ids: appends to SQLite's B-tree, about half the cost of inserting them in
 * descending order (as reusing the last freed first would). The highest id
 * in use is where a new one continues after a restart.
 */
import { FLOW_ROWS_PER_INSTANCE } from './migrations.js';

export class FlowRowIds {
  /** Freed entry numbers, a bit each: entry e is bit e % 32 of word e / 32. */
  private freed = new Int32Array(8);
  private nFreed = 0;
  /** No freed entry number is below this one. */
  private lowest = 0;

  constructor(
    /** The instance's first id (number × 2^32; never handed out). */
    readonly first: number,
    /** The highest entry number in use (0: none). */
    private last: number,
  ) {}

  take(): number {
    if (this.nFreed > 0) {
      const words = this.freed;
      let w = Math.floor(this.lowest / 32);
      while (words[w] === 0) w++;
      const bits = words[w];
      words[w] = bits & (bits - 1);
      this.nFreed--;
      const entry = w * 32 + (31 - Math.clz32(bits & -bits));
      this.lowest = entry + 1;
      return this.first + entry;
    }
    if (this.last === FLOW_ROWS_PER_INSTANCE - 1) throw new RangeError(`instance row ids exhausted (${FLOW_ROWS_PER_INSTANCE - 1} flows at once)`);
    return this.first + ++this.last;
  }

  /** `id` (one of this instance's, in use) is no longer used once the deletes queued so far are written. */
  release(id: number): void {
    const entry = id - this.first;
    const w = Math.floor(entry / 32);
    if (w >= this.freed.length) {
      const grown = new Int32Array(Math.max(2 * this.freed.length, w + 1));
      grown.set(this.freed);
      this.freed = grown;
    }
    const bit = 1 << (entry % 32);
    if ((this.freed[w] & bit) !== 0) return;
    this.freed[w] |= bit;
    this.nFreed++;
    if (entry < this.lowest) this.lowest = entry;
  }
}
