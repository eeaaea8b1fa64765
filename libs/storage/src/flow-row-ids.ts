/**
 * Hands out the ids of one instance's shadow flow rows: instance number ×
 * 2^32 + an entry number. Ids of deleted rows are handed out again first,
 * so the entry numbers stay below the most flows the instance has held at
 * once since the store was opened (plus the gaps it was opened with); the
 * highest id in use is where a new one continues after a restart.
 */
import { FLOW_ROWS_PER_INSTANCE } from './migrations.js';

export class FlowRowIds {
  private readonly freed: number[] = [];

  constructor(
    /** The instance's first id (number × 2^32; never handed out). */
    readonly first: number,
    /** The highest entry number in use (0: none). */
    private last: number,
  ) {}

  take(): number {
    const id = this.freed.pop();
    if (id !== undefined) return id;
    if (this.last === FLOW_ROWS_PER_INSTANCE - 1) throw new RangeError(`instance row ids exhausted (${FLOW_ROWS_PER_INSTANCE - 1} flows at once)`);
    return this.first + ++this.last;
  }

  /** `id` (one of this instance's) is no longer used once the deletes queued so far are written. */
  release(id: number): void {
    this.freed.push(id);
  }
}
