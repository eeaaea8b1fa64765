import { FlowRowIds } from './flow-row-ids.js';

const FIRST = 3 * 2 ** 32;

describe('FlowRowIds', () => {
  it('hands out ascending ids after the instance\'s first, continuing past the highest in use (a restart)', () => {
    const fresh = new FlowRowIds(FIRST, 0);
    expect([fresh.take(), fresh.take(), fresh.take()]).toEqual([FIRST + 1, FIRST + 2, FIRST + 3]);
    const ids = new FlowRowIds(FIRST, 10);
    expect([ids.take(), ids.take()]).toEqual([FIRST + 11, FIRST + 12]);
  });

  it('hands freed ids out again lowest first, whatever order they were freed in, then new ones', () => {
    for (const order of [
      [5, 6, 7, 8],
      [8, 7, 6, 5],
      [7, 5, 8, 6],
    ]) {
      const ids = new FlowRowIds(FIRST, 0);
      for (let i = 0; i < 10; i++) ids.take();
      for (const e of order) ids.release(FIRST + e);
      expect(Array.from({ length: 6 }, () => ids.take() - FIRST)).toEqual([5, 6, 7, 8, 11, 12]);
    }
  });

  it('a lower id freed while others are being reused comes first', () => {
    const ids = new FlowRowIds(FIRST, 0);
    for (let i = 0; i < 100; i++) ids.take();
    for (const e of [40, 41, 95, 64]) ids.release(FIRST + e);
    expect(ids.take() - FIRST).toBe(40);
    ids.release(FIRST + 3);
    expect(Array.from({ length: 5 }, () => ids.take() - FIRST)).toEqual([3, 41, 64, 95, 101]);
  });

  it('an id freed twice is handed out once', () => {
    const ids = new FlowRowIds(FIRST, 0);
    ids.take();
    ids.take();
    ids.release(FIRST + 1);
    ids.release(FIRST + 1);
    expect([ids.take(), ids.take()]).toEqual([FIRST + 1, FIRST + 3]);
  });

  it('a bulk delete and refill of 100,000 flows reuses every id, ascending', () => {
    const ids = new FlowRowIds(FIRST, 0);
    const taken = Array.from({ length: 100_000 }, () => ids.take());
    for (const id of [...taken].reverse()) ids.release(id);
    expect(Array.from({ length: 100_000 }, () => ids.take())).toEqual(taken);
    expect(ids.take()).toBe(FIRST + 100_001);
  });
});
