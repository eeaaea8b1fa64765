import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { shadowFlowOf, shadowGroupOf, shadowMeterOf } from './flow-key.js';
import { flowMod, newInstance } from './spec-helpers.js';
import { FlowRowIds } from './flow-row-ids.js';
import { DB_FILE, resolveDataDir, Store, StoreOptions } from './store.js';
import { OPERATOR, ShadowFlow } from './types.js';
import { OFPGC, OFPGT, OFPMBT, OFPMC, OFPMF, OFPP, OFPG, OFPT } from '@nicvisor/openflow';

const inPort = (p: number) => ({ field: 'in_port' as const, value: p });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nicvisor-storage-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('batching', () => {
  let store: Store;
  afterEach(() => store.close());

  let ids: FlowRowIds;
  /** Opens the store with instance fw1 in it. */
  const open = (path: string, options: StoreOptions = {}): void => {
    store = Store.open(path, options);
    store.instances.create(newInstance('fw1', 'acme', [1]));
    ids = store.shadow.flowRowIds('fw1')!;
  };
  const flow = (prio: number) => shadowFlowOf('fw1', ids.take(), 'acme', flowMod(1, prio, [inPort(1)]));
  const put = (f: ShadowFlow) => store.shadow.putFlow(f.id, f.owner, f.flowMod);
  const rawCount = (table: string) => store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

  it('queues shadow and audit writes until flush, which writes them in one transaction', () => {
    open(':memory:');
    for (let p = 0; p < 5; p++) put(flow(p));
    store.audit.append({ actor: 'acme', vnf: 'fw1', action: 'flow-mod.add', result: 'ok' });
    expect(store.pending).toBe(6);
    expect(rawCount('shadow_flow_rows')).toBe(0);
    expect(rawCount('audit')).toBe(0);
    expect(store.flush()).toBe(6);
    expect(store.pending).toBe(0);
    expect(rawCount('shadow_flow_rows')).toBe(5);
    expect(rawCount('audit')).toBe(1);
    expect(store.flush()).toBe(0);
  });

  it('reads see queued writes (they flush first)', () => {
    open(':memory:');
    put(flow(1));
    expect(store.shadow.flowsOf('fw1')).toHaveLength(1);
    store.audit.append({ actor: 'a', action: 'b', result: 'ok' });
    expect(store.audit.query()).toHaveLength(1);
    store.shadow.upsertGroup({ vnf: 'fw1', groupId: 1, owner: 'acme', groupMod: Buffer.from('g') });
    expect(store.shadow.countsOf('fw1').groups).toBe(1);
    expect(store.pending).toBe(0);
  });

  it('applies queued operations in order within a batch', () => {
    open(':memory:');
    const a = flow(1);
    const b = flow(2);
    put(a);
    store.shadow.removeFlow(a.id); // put then remove: gone
    store.shadow.removeFlow(b.id);
    put(b); // remove then put: there
    store.shadow.upsertMeter({ vnf: 'fw1', meterId: 1, owner: 'acme', meterMod: Buffer.from('m') });
    store.shadow.clearInstance('fw1');
    store.shadow.upsertGroup({ vnf: 'fw1', groupId: 1, owner: 'acme', groupMod: Buffer.from('g') }); // after the clear
    store.flush();
    expect(store.shadow.flowsOf('fw1')).toEqual([]);
    expect(store.shadow.countsOf('fw1')).toMatchObject({ flows: 0, groups: 1, meters: 0 });
    put(a);
    put(b);
    store.shadow.removeFlow(a.id);
    expect(store.shadow.flowsOf('fw1')).toEqual([b]);
  });

  it('immediate writes flush the queue first, so deleting an instance leaves no orphans', () => {
    open(':memory:');
    put(flow(1));
    store.audit.append({ actor: 'acme', vnf: 'fw1', action: 'flow-mod.add', result: 'ok' });
    store.instances.delete('fw1');
    expect(store.pending).toBe(0);
    expect(rawCount('shadow_flow_rows')).toBe(0);
    // The audit entry was written while the instance existed: its tenant was filled in.
    expect(store.audit.query()[0].tenant).toBe('acme');
  });

  it('flushes by itself at maxPending operations', () => {
    open(':memory:', { maxPending: 3 });
    put(flow(1));
    put(flow(2));
    expect(rawCount('shadow_flow_rows')).toBe(0);
    put(flow(3));
    expect(store.pending).toBe(0);
    expect(rawCount('shadow_flow_rows')).toBe(3);
  });

  it('flushes on its timer when flushIntervalMs is set', async () => {
    open(':memory:', { flushIntervalMs: 10 });
    put(flow(1));
    const deadline = Date.now() + 5000;
    while (store.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(store.pending).toBe(0);
    expect(rawCount('shadow_flow_rows')).toBe(1);
  });

  it('a failed flush rolls back, keeps the queue and can be retried; discardPending drops it', () => {
    const file = join(dir, DB_FILE);
    open(file);
    store.db.pragma('busy_timeout = 0');
    const other = new Database(file);
    other.prepare('BEGIN IMMEDIATE').run(); // another writer holds the lock
    put(flow(1));
    put(flow(2));
    expect(() => store.flush()).toThrow(/locked|busy/i);
    expect(store.pending).toBe(2);
    other.prepare('ROLLBACK').run();
    other.close();
    expect(store.flush()).toBe(2);
    expect(rawCount('shadow_flow_rows')).toBe(2);
    put(flow(3));
    expect(store.discardPending()).toBe(1);
    expect(store.shadow.flowsOf('fw1')).toHaveLength(2);
  });
});

describe('restart safety', () => {
  it('everything written is there after close and reopen, in every table', () => {
    const file = join(dir, DB_FILE);
    const a = Store.open(file);
    expect(a.db.pragma('journal_mode', { simple: true })).toBe('wal');
    a.tenants.ensure('idle-tenant');
    a.instances.create(newInstance('fw1', 'acme', [1, 2], { channel: { mode: 'listen', endpointPort: 16653 } }));
    a.instances.create(newInstance('lb1', 'beta', [3], { channel: { mode: 'connect', target: 'tcp:127.0.0.1:6633' } }));
    a.instances.update('fw1', { quotas: { flows: 5 } });
    const fw1 = a.shadow.flowRowIds('fw1')!;
    const lb1 = a.shadow.flowRowIds('lb1')!;
    const flows = [
      shadowFlowOf('fw1', fw1.take(), OPERATOR, flowMod(0, 1, [inPort(1)], 1, 0xc0ffeen)),
      shadowFlowOf('fw1', fw1.take(), OPERATOR, flowMod(0, 1, [inPort(2)], 2, 0xc0ffeen)),
      shadowFlowOf('fw1', fw1.take(), 'acme', flowMod(1, 100, [{ field: 'eth_type', value: 0x800 }, { field: 'ipv4_dst', value: '10.0.0.1' }], 2, 0xffffffffffffffffn)),
      shadowFlowOf('lb1', lb1.take(), 'beta', flowMod(1, 5, [], 3)),
    ];
    flows.forEach((f) => a.shadow.putFlow(f.id, f.owner, f.flowMod));
    const group = shadowGroupOf('fw1', 'acme', {
      type: OFPT.GROUP_MOD,
      xid: 1,
      command: OFPGC.ADD,
      groupType: OFPGT.ALL,
      groupId: 7,
      buckets: [{ weight: 0, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: [] }],
    });
    const meter = shadowMeterOf('lb1', 'beta', {
      type: OFPT.METER_MOD,
      xid: 1,
      command: OFPMC.ADD,
      flags: OFPMF.PKTPS,
      meterId: 3,
      bands: [{ type: OFPMBT.DROP, rate: 10, burstSize: 0 }],
    });
    a.shadow.upsertGroup(group);
    a.shadow.upsertMeter(meter);
    a.audit.append({ actor: 'orchestrator', vnf: 'fw1', action: 'instance.create', detail: { ports: [1, 2] }, result: 'ok' });
    a.audit.append({ actor: 'beta', vnf: 'lb1', action: 'flow-mod.add', result: 'denied', errorType: 'FLOW_MOD_FAILED', errorCode: 'EPERM' });
    const snapshot = (s: Store) => ({
      version: s.schemaVersion,
      tenants: s.tenants.list(),
      instances: s.instances.list(),
      ports: [1, 2, 3, 4].map((p) => s.instances.portOwner('embedded', p)),
      flows: ['fw1', 'lb1'].map((v) => s.shadow.flowsOf(v)),
      groups: ['fw1', 'lb1'].map((v) => s.shadow.groupsOf(v)),
      meters: ['fw1', 'lb1'].map((v) => s.shadow.metersOf(v)),
      counts: ['fw1', 'lb1'].map((v) => s.shadow.countsOf(v)),
      audit: s.audit.query(),
    });
    const before = snapshot(a);
    expect(before.flows[0]).toHaveLength(3);
    const queued = shadowFlowOf('lb1', lb1.take(), 'beta', flowMod(2, 9, [inPort(3)], 3));
    a.shadow.putFlow(queued.id, queued.owner, queued.flowMod); // only queued: close() flushes it
    a.close();
    a.close(); // idempotent
    expect(a.isOpen).toBe(false);
    expect(() => a.shadow.putFlow(queued.id, queued.owner, queued.flowMod)).toThrow(/closed/);
    expect(() => a.audit.append({ actor: 'x', action: 'y', result: 'ok' })).toThrow(/closed/);

    const b = Store.open(file);
    const after = snapshot(b);
    const lb1Counts = before.counts[1];
    expect(after).toEqual({
      ...before,
      flows: [before.flows[0], [...before.flows[1], queued]],
      counts: [before.counts[0], { ...lb1Counts, flows: 2, byOwner: { beta: { ...lb1Counts.byOwner.beta, flows: 2 } } }],
    });
    // The stored flow-mods decode back to what was installed.
    expect(after.flows[0].map((f) => f.flowMod)).toEqual(flows.slice(0, 3).map((f) => f.flowMod));
    // Reopened, it still accepts writes and keeps enforcing uniqueness.
    expect(() => b.instances.create(newInstance('fw9', 'acme', [1]))).toThrow(/attached to fw1/);
    b.close();
  });

  it('what was flushed survives a process that exits without close(); what was only queued does not', () => {
    const file = join(dir, DB_FILE);
    const child = fileURLToPath(new URL('./testing/exit-without-close.ts', import.meta.url));
    const register = fileURLToPath(new URL('../../../bin/register.js', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', register, child, file], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const s = Store.open(file);
    expect(s.instances.get('child')?.channel).toEqual({ mode: 'listen', endpointPort: 16700 });
    expect(s.shadow.groupsOf('child').map((g) => g.groupMod.toString())).toEqual(['flushed']);
    expect(s.audit.query({ tenant: 'acme' })).toHaveLength(1);
    s.close();
  });

  it('openDataDir creates the directory and the database file; NICVISOR_DATA_DIR picks it', () => {
    const data = join(dir, 'a', 'b');
    const s = Store.openDataDir(data);
    s.tenants.ensure('acme');
    s.close();
    expect(readdirSync(data)).toContain(DB_FILE);
    const again = Store.openDataDir(data);
    expect(again.tenants.list().map((t) => t.id)).toEqual(['acme']);
    again.close();
    expect(resolveDataDir({ NICVISOR_DATA_DIR: data })).toBe(data);
    expect(resolveDataDir({})).toBe(join(process.cwd(), 'data'));
  });
});
