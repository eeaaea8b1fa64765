import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeMessage } from '@nicvisor/openflow';
import { shadowFlowOf } from './flow-key.js';
import { flowMod, newInstance } from './spec-helpers.js';
import { DB_FILE, Store } from './store.js';
import type { ShadowFlow } from './types.js';

/** Queues a put of `f`'s row. */
const put = (store: Store, f: ShadowFlow) => store.shadow.putFlow(f.id, f.owner, f.flowMod);

const inPort = (p: number) => ({ field: 'in_port' as const, value: p });

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nicvisor-writer-'));
  file = join(dir, DB_FILE);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Rows in a table as another connection sees them (what is committed). */
function committed(table: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('the writer thread', () => {
  it('a blocking flush with nothing in flight on the thread writes on the store connection (it never waits for the thread, e.g. while it starts)', async () => {
    const flushed: number[] = [];
    const store = Store.open(file, { writerThread: true, onFlush: (ops) => flushed.push(ops) });
    try {
      store.instances.create(newInstance('fw1', 'acme', [1]));
      const ids = store.shadow.flowRowIds('fw1')!;
      put(store, shadowFlowOf('fw1', ids.take(), 'acme', flowMod(1, 5, [inPort(1)], 1, 1n)));
      expect(store.flush()).toBe(1);
      // Reported before flush returned: written here, not handed to the thread (which reports by message, later).
      expect(flushed).toEqual([1]);
      expect(committed('shadow_flow_rows')).toBe(1);
      // The thread up (its start, which a loaded machine can make slow, awaited without blocking)...
      put(store, shadowFlowOf('fw1', ids.take(), 'acme', flowMod(1, 8, [inPort(1)], 1, 1n)));
      expect(await store.flushAsync()).toBe(1);
      expect(committed('shadow_flow_rows')).toBe(2);
      // ...with a batch in flight, a blocking flush goes through the thread, after it, in order.
      put(store, shadowFlowOf('fw1', ids.take(), 'acme', flowMod(1, 6, [inPort(1)], 1, 1n)));
      const inFlight = store.flushAsync();
      put(store, shadowFlowOf('fw1', ids.take(), 'acme', flowMod(1, 7, [inPort(1)], 1, 1n)));
      expect(store.flush()).toBe(1);
      expect(committed('shadow_flow_rows')).toBe(4);
      await inFlight;
    } finally {
      store.close();
    }
  });

  it('commit writes a few operations here and now when the thread is idle, and hands a longer queue to the thread', async () => {
    const store = Store.open(file, { writerThread: true });
    try {
      store.instances.create(newInstance('fw1', 'acme', [1]));
      const ids = store.shadow.flowRowIds('fw1')!;
      expect(store.commit()).toBeUndefined(); // nothing queued
      put(store, shadowFlowOf('fw1', ids.take(), 'acme', flowMod(1, 1, [inPort(1)])));
      store.audit.append({ actor: 'acme', vnf: 'fw1', action: 'flow-mod.add', result: 'ok' });
      expect(store.commit()).toBeUndefined();
      expect(committed('shadow_flow_rows')).toBe(1);
      expect(committed('audit')).toBe(1);
      for (let p = 2; p < 40; p++) put(store, shadowFlowOf('fw1', ids.take(), 'acme', flowMod(1, p, [inPort(1)])));
      const pending = store.commit();
      expect(pending).toBeInstanceOf(Promise);
      expect(await pending).toBe(38);
      expect(committed('shadow_flow_rows')).toBe(39);
    } finally {
      store.close();
    }
  });

  it('flushAsync resolves once the queue is committed; reads and immediate writes see every earlier write', async () => {
    const store = Store.open(file, { writerThread: true });
    try {
      store.instances.create(newInstance('fw1', 'acme', [1]));
      const ids = store.shadow.flowRowIds('fw1')!;
      const first = shadowFlowOf('fw1', ids.take(), 'acme', flowMod(1, 0, [inPort(1)], 1, 0xfedcba9876543210n));
      put(store, first);
      for (let p = 1; p < 100; p++) put(store, shadowFlowOf('fw1', ids.take(), 'acme', flowMod(1, p, [inPort(1)], 1, 0xfedcba9876543210n)));
      // As the controller's hot path queues it: the flow-mod's bytes, cookie and all.
      const fm = encodeMessage(flowMod(2, 9, [inPort(2)], 2, 0x8000000000000001n));
      store.shadow.putFlow(ids.take(), 'acme', fm);
      store.audit.append({ actor: 'acme', vnf: 'fw1', action: 'flow-mod.add', result: 'ok', detail: { count: 101 } });
      expect(await store.flushAsync()).toBe(102);
      expect(committed('shadow_flow_rows')).toBe(101);
      expect(committed('audit')).toBe(1);
      store.shadow.removeFlow(first.id);
      // A read flushes (blocking) first.
      const flows = store.shadow.flowsOf('fw1');
      expect(flows).toHaveLength(100);
      expect(flows.find((f) => f.tableId === 2)).toMatchObject({ priority: 9, cookie: 0x8000000000000001n, flowMod: fm });
      expect(flows.find((f) => f.tableId === 1)?.cookie).toBe(0xfedcba9876543210n);
      // An immediate write lands after the queued ones.
      store.audit.append({ actor: 'acme', vnf: 'fw1', action: 'flow-mod.delete', result: 'ok' });
      store.instances.update('fw1', { quotas: { flows: 5 } });
      expect(committed('audit')).toBe(2);
    } finally {
      store.close();
    }
    const again = Store.open(file);
    expect(again.shadow.countsOf('fw1').flows).toBe(100);
    expect(again.instances.get('fw1')?.quotas).toEqual({ flows: 5 });
    again.close();
  });

  it('a batch it cannot write is kept and retried with the next, in order; nothing is lost', async () => {
    const store = Store.open(file, { writerThread: true, maxPending: 2 });
    const errors: unknown[] = [];
    try {
      store.instances.create(newInstance('fw1', 'acme', [1]));
      const other = new Database(file);
      other.prepare('BEGIN IMMEDIATE').run(); // another writer holds the lock past the thread's busy timeout
      const ids = store.shadow.flowRowIds('fw1')!;
      put(store, shadowFlowOf('fw1', ids.take(), 'acme', flowMod(1, 1, [inPort(1)])));
      const second = shadowFlowOf('fw1', ids.take(), 'acme', flowMod(1, 2, [inPort(1)]));
      put(store, second); // maxPending: handed over now
      const replacing = shadowFlowOf('fw1', second.id, 'acme', flowMod(1, 2, [inPort(1)], 7));
      put(store, replacing); // replaces it, later
      await store.flushAsync().catch((e: unknown) => errors.push(e));
      expect(String(errors[0])).toMatch(/locked|busy/i);
      other.prepare('ROLLBACK').run();
      other.close();
      put(store, shadowFlowOf('fw1', ids.take(), 'acme', flowMod(1, 3, [inPort(1)])));
      expect(await store.flushAsync()).toBe(1);
      const flows = store.shadow.flowsOf('fw1');
      expect(flows.map((f) => f.priority)).toEqual([3, 2, 1]);
      expect(flows[1].flowMod.equals(replacing.flowMod)).toBe(true);
    } finally {
      store.close();
    }
  }, 60_000);
});
