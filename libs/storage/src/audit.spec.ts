import { newInstance } from './spec-helpers.js';
import { Store } from './store.js';
import { StoreInputError } from './types.js';

describe('audit log', () => {
  let store: Store;
  let clock = 0;
  beforeEach(() => {
    clock = Date.parse('2026-11-01T00:00:00Z');
    store = Store.open(':memory:', { now: () => clock });
    store.instances.create(newInstance('fw1', 'acme', [1]));
    store.instances.create(newInstance('lb1', 'beta', [2]));
  });
  afterEach(() => store.close());

  /** Appends one entry per minute: orchestrator creates, tenant mutations accepted and denied. */
  function seed(): void {
    const entries = [
      { actor: 'orchestrator', tenant: 'acme', vnf: 'fw1', action: 'instance.create', detail: { ports: [1] }, result: 'ok' as const },
      { actor: 'acme', vnf: 'fw1', action: 'flow-mod.add', detail: { table: 0, priority: 10, cookie: 5n }, result: 'ok' as const },
      {
        actor: 'acme',
        vnf: 'fw1',
        action: 'flow-mod.add',
        detail: { table: 60 },
        result: 'denied' as const,
        errorType: 'FLOW_MOD_FAILED',
        errorCode: 'BAD_TABLE_ID',
      },
      { actor: 'beta', vnf: 'lb1', action: 'group-mod.add', result: 'ok' as const },
      { actor: 'orchestrator', action: 'tenant.list', result: 'ok' as const },
      { actor: 'operator', vnf: 'lb1', tenant: 'beta', action: 'flows.delete', result: 'error' as const, errorType: 'NicError', errorCode: 'TIMEOUT' },
    ];
    for (const e of entries) {
      store.audit.append(e);
      clock += 60_000;
    }
  }

  it('appends entries with id, time, every field, and JSON detail (bigints as strings)', () => {
    seed();
    const all = store.audit.query();
    expect(all).toHaveLength(6);
    expect(all.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(all[2]).toEqual({
      id: 3,
      time: Date.parse('2026-11-01T00:02:00Z'),
      actor: 'acme',
      tenant: 'acme',
      vnf: 'fw1',
      action: 'flow-mod.add',
      detail: { table: 60 },
      result: 'denied',
      errorType: 'FLOW_MOD_FAILED',
      errorCode: 'BAD_TABLE_ID',
    });
    expect(all[1].detail).toEqual({ table: 0, priority: 10, cookie: '5' });
    expect(all[4]).toMatchObject({ tenant: null, vnf: null, detail: null, errorType: null, errorCode: null });
    expect(store.audit.count()).toBe(6);
  });

  it("fills the tenant from the vNF's instance when not given", () => {
    seed();
    expect(store.audit.query({ vnf: 'lb1' }).map((e) => e.tenant)).toEqual(['beta', 'beta']);
    store.audit.append({ actor: 'x', vnf: 'ghost', action: 'a', result: 'ok' });
    expect(store.audit.query({ vnf: 'ghost' })[0].tenant).toBeNull();
  });

  it('queries by vnf, tenant, actor, action, result', () => {
    seed();
    expect(store.audit.query({ vnf: 'fw1' }).map((e) => e.id)).toEqual([1, 2, 3]);
    expect(store.audit.query({ tenant: 'acme' }).map((e) => e.id)).toEqual([1, 2, 3]);
    expect(store.audit.query({ tenant: 'beta' }).map((e) => e.id)).toEqual([4, 6]);
    expect(store.audit.query({ actor: 'orchestrator' }).map((e) => e.id)).toEqual([1, 5]);
    expect(store.audit.query({ action: 'flow-mod.add', result: 'denied' }).map((e) => e.id)).toEqual([3]);
    expect(store.audit.query({ tenant: 'acme', result: 'ok' }).map((e) => e.id)).toEqual([1, 2]);
    expect(store.audit.query({ vnf: 'nobody' })).toEqual([]);
  });

  it('queries by time: since (inclusive; ms, Date or ISO string) and until (exclusive)', () => {
    seed();
    const t2 = Date.parse('2026-11-01T00:02:00Z');
    expect(store.audit.query({ since: t2 }).map((e) => e.id)).toEqual([3, 4, 5, 6]);
    expect(store.audit.query({ since: new Date(t2) }).map((e) => e.id)).toEqual([3, 4, 5, 6]);
    expect(store.audit.query({ since: '2026-11-01T00:02:00Z' }).map((e) => e.id)).toEqual([3, 4, 5, 6]);
    expect(store.audit.query({ since: '2026-11-01T00:02:00Z', until: '2026-11-01T00:04:00Z' }).map((e) => e.id)).toEqual([3, 4]);
    expect(store.audit.query({ vnf: 'fw1', since: t2 + 1 }).map((e) => e.id)).toEqual([]);
    expect(store.audit.query({ tenant: 'beta', since: t2 }).map((e) => e.id)).toEqual([4, 6]);
    expect(() => store.audit.query({ since: 'yesterday' })).toThrow(StoreInputError);
  });

  it('limits, pages with afterId, and orders newest first on request', () => {
    seed();
    expect(store.audit.query({ limit: 2 }).map((e) => e.id)).toEqual([1, 2]);
    expect(store.audit.query({ limit: 2, afterId: 2 }).map((e) => e.id)).toEqual([3, 4]);
    expect(store.audit.query({ limit: 2, order: 'desc' }).map((e) => e.id)).toEqual([6, 5]);
    expect(store.audit.query({ limit: 0 })).toEqual([]);
    expect(() => store.audit.query({ limit: -1 })).toThrow(StoreInputError);
  });

  it('refuses a bad entry at append time, so it never blocks a flush', () => {
    expect(() => store.audit.append({ actor: '', action: 'a', result: 'ok' })).toThrow(StoreInputError);
    expect(() => store.audit.append({ actor: 'a', action: '', result: 'ok' })).toThrow(StoreInputError);
    expect(() => store.audit.append({ actor: 'a', action: 'b', result: 'maybe' as 'ok' })).toThrow(StoreInputError);
    expect(store.pending).toBe(0);
  });

  it('is append-only: the database refuses updates and deletes', () => {
    seed();
    store.flush(); // raw SQL below does not go through the queue
    expect(() => store.db.prepare("UPDATE audit SET result = 'ok' WHERE id = 3").run()).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    expect(store.audit.count()).toBe(6);
  });

  it('keeps entries of a deleted instance', () => {
    seed();
    store.instances.delete('fw1');
    expect(store.audit.query({ vnf: 'fw1' })).toHaveLength(3);
  });
});
