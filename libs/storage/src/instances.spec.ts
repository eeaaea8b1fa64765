import { newInstance } from './spec-helpers.js';
import { formatDatapathId, Store } from './store.js';
import { StoreConflictError, StoreInputError } from './types.js';
import { sameRequest } from './json.js';

function conflict(fn: () => unknown): StoreConflictError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StoreConflictError) return e;
    throw e;
  }
  throw new Error('expected a StoreConflictError');
}

describe('tenants', () => {
  let store: Store;
  let clock = 1000;
  beforeEach(() => {
    clock = 1000;
    store = Store.open(':memory:', { now: () => clock++ });
  });
  afterEach(() => store.close());

  it('ensure creates once and returns the same tenant after', () => {
    const a = store.tenants.ensure('acme');
    expect(a).toEqual({ id: 'acme', createdAt: 1000, vnfs: [] });
    expect(store.tenants.ensure('acme')).toEqual(a);
    expect(store.tenants.get('acme')).toEqual(a);
    expect(store.tenants.get('nobody')).toBeUndefined();
  });

  it('list is sorted and names each tenant’s vNFs', () => {
    store.tenants.ensure('zeta');
    store.instances.create(newInstance('fw2', 'acme', [3]));
    store.instances.create(newInstance('fw1', 'acme', [1, 2]));
    store.instances.create(newInstance('lb1', 'beta', [4]));
    expect(store.tenants.list().map((t) => [t.id, t.vnfs])).toEqual([
      ['acme', ['fw1', 'fw2']],
      ['beta', ['lb1']],
      ['zeta', []],
    ]);
  });

  it('delete refuses a tenant with instances and removes one without', () => {
    store.instances.create(newInstance('fw1', 'acme', [1]));
    expect(conflict(() => store.tenants.delete('acme'))).toMatchObject({ reason: 'tenant-has-instances', holder: 'fw1' });
    store.instances.delete('fw1');
    expect(store.tenants.delete('acme')).toBe(true);
    expect(store.tenants.delete('acme')).toBe(false);
    expect(store.tenants.list()).toEqual([]);
  });

  it('rejects an empty tenant id', () => {
    expect(() => store.tenants.ensure('')).toThrow(StoreInputError);
  });
});

describe('instances', () => {
  let store: Store;
  let clock = 5000;
  beforeEach(() => {
    clock = 5000;
    store = Store.open(':memory:', { now: () => clock++ });
  });
  afterEach(() => store.close());

  it('create stores every field and creates the tenant', () => {
    const input = newInstance('fw1', 'acme', [1, 2], {
      channel: { mode: 'connect', target: 'tcp:127.0.0.1:6633' },
      request: { vnf: 'fw1', tenant: 'acme', ports: [1, 2], channel: { mode: 'connect', target: 'tcp:127.0.0.1:6633' } },
    });
    const rec = store.instances.create(input);
    expect(rec).toEqual({ ...input, createdAt: 5000, updatedAt: 5000 });
    expect(store.instances.get('fw1')).toEqual(rec);
    expect(store.tenants.get('acme')?.vnfs).toEqual(['fw1']);
    expect(rec.channel).toEqual({ mode: 'connect', target: 'tcp:127.0.0.1:6633' });
  });

  it('create refuses an existing vNF, a taken port, datapath id or endpoint port', () => {
    store.instances.create(newInstance('fw1', 'acme', [1, 2]));
    expect(conflict(() => store.instances.create(newInstance('fw1', 'acme', [9])))).toMatchObject({ reason: 'vnf-exists' });
    expect(conflict(() => store.instances.create(newInstance('fw2', 'beta', [5, 2])))).toMatchObject({
      reason: 'port-in-use',
      holder: 'fw1',
    });
    const dup = newInstance('fw3', 'beta', [7], { datapathId: store.instances.get('fw1')!.datapathId });
    expect(conflict(() => store.instances.create(dup))).toMatchObject({ reason: 'datapath-in-use', holder: 'fw1' });
    const ep = newInstance('fw4', 'beta', [8], { channel: { mode: 'listen', endpointPort: 16654 } });
    expect(conflict(() => store.instances.create(ep))).toMatchObject({ reason: 'endpoint-in-use', holder: 'fw1' });
    // Nothing of the refused ones was stored, not even their tenant.
    expect(store.instances.list().map((i) => i.vnf)).toEqual(['fw1']);
    expect(store.tenants.list().map((t) => t.id)).toEqual(['acme']);
  });

  it('the same port number on another NIC is free', () => {
    store.instances.create(newInstance('fw1', 'acme', [1]));
    const other = store.instances.create(newInstance('fw2', 'acme', [1], { nic: 'tcp:127.0.0.1:7000', datapathId: 'ffff000000000001', channel: { mode: 'listen' } }));
    expect(other.nic).toBe('tcp:127.0.0.1:7000');
    expect(store.instances.portOwner('embedded', 1)).toBe('fw1');
    expect(store.instances.portOwner('tcp:127.0.0.1:7000', 1)).toBe('fw2');
    expect(store.instances.portOwner('embedded', 2)).toBeUndefined();
  });

  it('rejects malformed input', () => {
    expect(() => store.instances.create(newInstance('fw1', 'acme', [1], { datapathId: 'abc' }))).toThrow(StoreInputError);
    expect(() => store.instances.create(newInstance('fw1', 'acme', [1], { datapathId: '000000000000ABCG' }))).toThrow(StoreInputError);
    expect(() => store.instances.create(newInstance('fw1', 'acme', [1, 1]))).toThrow(/repeat/);
    expect(() => store.instances.create(newInstance('fw1', 'acme', [-1]))).toThrow(StoreInputError);
    expect(() => store.instances.create(newInstance('', 'acme', [1]))).toThrow(StoreInputError);
    expect(() => store.instances.create(newInstance('fw1', 'acme', [1], { channel: { mode: 'dial' as 'listen' } }))).toThrow(StoreInputError);
    expect(store.instances.list()).toEqual([]);
  });

  it('createOrGet: created, then the same body (any key order) gives the same instance, a different body conflicts', () => {
    const input = newInstance('fw1', 'acme', [1, 2], { request: { vnf: 'fw1', tenant: 'acme', ports: [1, 2] } });
    const first = store.instances.createOrGet(input);
    expect(first.created).toBe(true);
    const again = store.instances.createOrGet({ ...input, request: { ports: [1, 2], tenant: 'acme', vnf: 'fw1' } });
    expect(again).toEqual({ instance: first.instance, created: false });
    const different = { ...input, request: { vnf: 'fw1', tenant: 'acme', ports: [1, 3] } };
    expect(conflict(() => store.instances.createOrGet(different))).toMatchObject({ reason: 'different-request', holder: 'fw1' });
    // A new vNF on a taken port: the create's own conflict.
    expect(conflict(() => store.instances.createOrGet(newInstance('fw2', 'acme', [2])))).toMatchObject({ reason: 'port-in-use' });
  });

  it('sameRequest ignores key order and undefined members, not values', () => {
    expect(sameRequest({ a: 1, b: { c: [1, { d: 2, e: 3 }] } }, { b: { c: [1, { e: 3, d: 2 }] }, a: 1 })).toBe(true);
    expect(sameRequest({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameRequest({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameRequest({ a: null }, { a: 1 })).toBe(false);
    expect(sameRequest({ a: 1n }, { a: '1' })).toBe(true);
  });

  it('get / byDatapathId / list with filters', () => {
    store.instances.create(newInstance('fw1', 'acme', [1]));
    store.instances.create(newInstance('lb1', 'beta', [2]));
    store.instances.create(newInstance('fw2', 'acme', [3], { nic: 'other', datapathId: '00000000000000ff', channel: { mode: 'listen' } }));
    expect(store.instances.get('nope')).toBeUndefined();
    expect(store.instances.byDatapathId('0000000000000A01')?.vnf).toBe('fw1');
    expect(store.instances.byDatapathId(formatDatapathId(0xffn))?.vnf).toBe('fw2');
    expect(store.instances.byDatapathId('0000000000000000')).toBeUndefined();
    expect(store.instances.list().map((i) => i.vnf)).toEqual(['fw1', 'fw2', 'lb1']);
    expect(store.instances.list({ tenant: 'acme' }).map((i) => i.vnf)).toEqual(['fw1', 'fw2']);
    expect(store.instances.list({ nic: 'embedded' }).map((i) => i.vnf)).toEqual(['fw1', 'lb1']);
    expect(store.instances.list({ tenant: 'acme', nic: 'embedded' }).map((i) => i.vnf)).toEqual(['fw1']);
  });

  it('update changes ports and quotas, moves port ownership, bumps updatedAt, keeps the rest', () => {
    const before = store.instances.create(newInstance('fw1', 'acme', [1, 2]));
    store.instances.create(newInstance('lb1', 'beta', [5]));
    const after = store.instances.update('fw1', { ports: [2, 3], quotas: { flows: 10 } })!;
    expect(after).toEqual({ ...before, ports: [2, 3], quotas: { flows: 10 }, updatedAt: after.updatedAt });
    expect(after.updatedAt).toBeGreaterThan(before.updatedAt);
    expect(store.instances.portOwner('embedded', 1)).toBeUndefined();
    expect(store.instances.portOwner('embedded', 3)).toBe('fw1');
    expect(conflict(() => store.instances.update('fw1', { ports: [2, 5] }))).toMatchObject({ reason: 'port-in-use', holder: 'lb1' });
    expect(store.instances.get('fw1')).toEqual(after);
    expect(
      conflict(() => store.instances.update('fw1', { channel: { mode: 'listen', endpointPort: store.instances.get('lb1')!.channel.endpointPort } })),
    ).toMatchObject({ reason: 'endpoint-in-use' });
    const ch = store.instances.update('fw1', { channel: { mode: 'connect', target: 'tcp:10.0.0.1:6653' }, tables: { operator: [0], tenant: [1, 2], virtual: false } })!;
    expect(ch.channel).toEqual({ mode: 'connect', target: 'tcp:10.0.0.1:6653' });
    expect(ch.tables.virtual).toBe(false);
    expect(store.instances.update('nope', { quotas: {} })).toBeUndefined();
  });

  it('delete removes the instance, frees its ports and drops its shadow entries', () => {
    store.instances.create(newInstance('fw1', 'acme', [1, 2]));
    store.shadow.upsertGroup({ vnf: 'fw1', groupId: 1, owner: 'acme', groupMod: Buffer.from('g') });
    store.shadow.upsertMeter({ vnf: 'fw1', meterId: 1, owner: 'acme', meterMod: Buffer.from('m') });
    store.shadow.putFlow(store.shadow.flowRowIds('fw1')!.take(), 'acme', Buffer.from('f'));
    store.audit.append({ actor: 'orchestrator', vnf: 'fw1', action: 'instance.create', result: 'ok' });
    expect(store.instances.delete('fw1')).toBe(true);
    expect(store.instances.delete('fw1')).toBe(false);
    expect(store.instances.get('fw1')).toBeUndefined();
    expect(store.instances.portOwner('embedded', 1)).toBeUndefined();
    expect(store.shadow.countsOf('fw1')).toEqual({ flows: 0, groups: 0, meters: 0, byOwner: {} });
    expect(store.audit.query({ vnf: 'fw1' })).toHaveLength(1);
    // Its port can be attached again.
    expect(store.instances.create(newInstance('fw9', 'acme', [2])).ports).toEqual([2]);
  });

  it('formatDatapathId pads and checks its range', () => {
    expect(formatDatapathId(0xabcn)).toBe('0000000000000abc');
    expect(formatDatapathId(0xffffffffffffffffn)).toBe('ffffffffffffffff');
    expect(() => formatDatapathId(-1)).toThrow(StoreInputError);
    expect(() => formatDatapathId(1n << 64n)).toThrow(StoreInputError);
  });
});
