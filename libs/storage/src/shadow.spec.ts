import {
  decodeMessage,
  FlowMod,
  GroupMod,
  MeterMod,
  OFP_NO_BUFFER,
  OFPFC,
  OFPG,
  OFPGC,
  OFPGT,
  OFPMBT,
  OFPMC,
  OFPMF,
  OFPP,
  OFPT,
} from '@nicvisor/openflow';
import { canonicalMatch, shadowFlowOf, shadowGroupOf, shadowMeterOf } from './flow-key.js';
import { FlowRowIds } from './flow-row-ids.js';
import { FLOW_ROWS_PER_INSTANCE } from './migrations.js';
import { flowMod, newInstance } from './spec-helpers.js';
import { Store } from './store.js';
import { OPERATOR, ShadowFlow } from './types.js';

const inPort = (p: number) => ({ field: 'in_port' as const, value: p });

describe('canonicalMatch', () => {
  it('ignores field order', () => {
    const a = canonicalMatch([inPort(3), { field: 'eth_type', value: 0x800 }, { field: 'ipv4_dst', value: '10.0.0.1' }]);
    const b = canonicalMatch([{ field: 'ipv4_dst', value: '10.0.0.1' }, { field: 'eth_type', value: 0x800 }, inPort(3)]);
    expect(a.equals(b)).toBe(true);
  });

  it('drops an all-ones mask and a zero-mask field; clears value bits outside the mask', () => {
    const plain = canonicalMatch([{ field: 'eth_type', value: 0x800 }, { field: 'ipv4_dst', value: '10.0.0.1' }]);
    const fullMask = canonicalMatch([
      { field: 'eth_type', value: 0x800 },
      { field: 'ipv4_dst', value: '10.0.0.1', mask: '255.255.255.255' },
      { field: 'ipv4_src', value: '1.2.3.4', mask: '0.0.0.0' },
    ]);
    expect(fullMask.equals(plain)).toBe(true);
    const a = canonicalMatch([{ field: 'eth_type', value: 0x800 }, { field: 'ipv4_dst', value: '10.0.0.7', mask: '255.255.255.0' }]);
    const b = canonicalMatch([{ field: 'eth_type', value: 0x800 }, { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.255.255.0' }]);
    expect(a.equals(b)).toBe(true);
    expect(a.equals(plain)).toBe(false);
  });

  it('is empty for the match-all and distinguishes different values', () => {
    expect(canonicalMatch([])).toEqual(Buffer.alloc(0));
    expect(canonicalMatch([inPort(1)]).equals(canonicalMatch([inPort(2)]))).toBe(false);
  });

  it('keeps opaque (experimenter) TLVs as they are', () => {
    const tlv = { oxmClass: 0xffff, field: 3, hasMask: true, payload: Buffer.from('0000232000000000', 'hex') };
    expect(canonicalMatch([tlv])).toEqual(Buffer.concat([Buffer.from([0xff, 0xff, 7, 8]), tlv.payload]));
  });
});

describe('shadow records from messages', () => {
  it('shadowFlowOf gives table, priority, canonical match and re-encodes as a plain ADD', () => {
    const fm: FlowMod = {
      ...flowMod(3, 100, [inPort(2)], 5, 0xfeedn),
      command: OFPFC.MODIFY_STRICT,
      xid: 99,
      bufferId: 42,
      outPort: 7,
      outGroup: 8,
      cookieMask: 0xffn,
    };
    const f = shadowFlowOf('fw1', 5, 'acme', fm);
    expect(f).toMatchObject({ vnf: 'fw1', id: 5, tableId: 3, priority: 100, owner: 'acme', cookie: 0xfeedn });
    expect(f.match.equals(canonicalMatch(fm.match))).toBe(true);
    const back = decodeMessage(f.flowMod) as FlowMod;
    expect(back).toEqual({
      ...fm,
      xid: 0,
      command: OFPFC.ADD,
      bufferId: OFP_NO_BUFFER,
      outPort: OFPP.ANY,
      outGroup: OFPG.ANY,
      cookieMask: 0n,
    });
  });

  it('shadowGroupOf / shadowMeterOf re-encode as ADD', () => {
    const gm: GroupMod = {
      type: OFPT.GROUP_MOD,
      xid: 5,
      command: OFPGC.MODIFY,
      groupType: OFPGT.ALL,
      groupId: 12,
      buckets: [{ weight: 0, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: [] }],
    };
    const g = shadowGroupOf('fw1', 'acme', gm);
    expect(g).toMatchObject({ vnf: 'fw1', groupId: 12, owner: 'acme' });
    expect(decodeMessage(g.groupMod)).toEqual({ ...gm, xid: 0, command: OFPGC.ADD });
    const mm: MeterMod = {
      type: OFPT.METER_MOD,
      xid: 6,
      command: OFPMC.MODIFY,
      flags: OFPMF.KBPS,
      meterId: 4,
      bands: [{ type: OFPMBT.DROP, rate: 1000, burstSize: 0 }],
    };
    const m = shadowMeterOf('fw1', 'acme', mm);
    expect(m).toMatchObject({ vnf: 'fw1', meterId: 4, owner: 'acme' });
    expect(decodeMessage(m.meterMod)).toEqual({ ...mm, xid: 0, command: OFPMC.ADD });
  });
});

describe('shadow repository', () => {
  let store: Store;
  let rows: Map<string, FlowRowIds>;
  beforeEach(() => {
    store = Store.open(':memory:');
    store.instances.create(newInstance('fw1', 'acme', [1, 2]));
    store.instances.create(newInstance('fw2', 'acme', [3]));
    rows = new Map(['fw1', 'fw2'].map((v) => [v, store.shadow.flowRowIds(v)!]));
  });
  afterEach(() => store.close());

  const flow = (vnf: string, table: number, prio: number, port: number, owner = 'acme', cookie = 0n): ShadowFlow =>
    shadowFlowOf(vnf, rows.get(vnf)!.take(), owner, flowMod(table, prio, [inPort(port)], port, cookie));
  const put = (f: ShadowFlow) => store.shadow.putFlow(f.id, f.owner, f.flowMod);

  it('each instance has its own range of row ids; flowRowIds continues after the highest stored', () => {
    const [a, b] = [flow('fw1', 1, 10, 1), flow('fw1', 1, 11, 1)];
    const c = flow('fw2', 1, 10, 1);
    expect(b.id).toBe(a.id + 1);
    expect(Math.floor(a.id / FLOW_ROWS_PER_INSTANCE)).not.toBe(Math.floor(c.id / FLOW_ROWS_PER_INSTANCE));
    [a, b, c].forEach(put);
    expect(store.shadow.flowRowIds('fw1')!.take()).toBe(b.id + 1);
    expect(store.shadow.flowRowIds('nobody')).toBeUndefined();
  });

  it('putFlow stores, and a second put of the same row replaces owner, cookie and bytes', () => {
    const a = flow('fw1', 1, 10, 1);
    put(a);
    expect(store.shadow.flowsOf('fw1')).toEqual([a]);
    const b = shadowFlowOf('fw1', a.id, OPERATOR, { ...flowMod(1, 10, [inPort(1)], 2, 77n), idleTimeout: 30 });
    expect(b.match.equals(a.match)).toBe(true);
    put(b);
    expect(store.shadow.flowsOf('fw1')).toEqual([b]);
  });

  it('keeps 64-bit cookies exactly, including the top bit', () => {
    const cookies = [0n, 1n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn];
    for (const cookie of cookies) put(flow('fw1', 1, Number(cookie % 1000n), 1, 'acme', cookie));
    expect(new Set(store.shadow.flowsOf('fw1').map((f) => f.cookie))).toEqual(new Set(cookies));
  });

  it('removeFlow forgets one row only', () => {
    const a = flow('fw1', 1, 10, 1);
    const b = flow('fw1', 1, 20, 1);
    const c = flow('fw2', 1, 10, 1);
    [a, b, c].forEach(put);
    store.shadow.removeFlow(a.id);
    store.shadow.removeFlow(a.id + 1000);
    expect(store.shadow.flowsOf('fw1')).toEqual([b]);
    expect(store.shadow.flowsOf('fw2')).toEqual([c]);
  });

  it('runs of puts and removes (written many rows per statement) land in order', () => {
    const ids = rows.get('fw1')!;
    const fs = Array.from({ length: 100 }, (_, i) => flow('fw1', 1, i, 1));
    fs.forEach(put);
    // Every other one removed, then its row handed out again for a new flow.
    for (let i = 0; i < 100; i += 2) {
      store.shadow.removeFlow(fs[i].id);
      ids.release(fs[i].id);
    }
    const again = Array.from({ length: 50 }, (_, i) => flow('fw1', 2, i, 1));
    again.forEach(put);
    expect(new Set(again.map((f) => f.id))).toEqual(new Set(fs.filter((_, i) => i % 2 === 0).map((f) => f.id)));
    const got = store.shadow.flowsOf('fw1');
    expect(got).toHaveLength(100);
    expect(got.filter((f) => f.tableId === 1).map((f) => f.priority)).toEqual(fs.filter((_, i) => i % 2 === 1).map((f) => f.priority).reverse());
  });

  it('flowsOf orders by table, priority (highest first), then match, and filters by table and owner', () => {
    const fs = [flow('fw1', 2, 5, 1), flow('fw1', 1, 5, 2), flow('fw1', 1, 50, 1, OPERATOR), flow('fw1', 1, 5, 1)];
    fs.forEach(put);
    const got = store.shadow.flowsOf('fw1');
    expect(got.map((f) => [f.tableId, f.priority])).toEqual([
      [1, 50],
      [1, 5],
      [1, 5],
      [2, 5],
    ]);
    expect(Buffer.compare(got[1].match, got[2].match)).toBeLessThan(0);
    expect(store.shadow.flowsOf('fw1', { tableId: 2 })).toEqual([fs[0]]);
    expect(store.shadow.flowsOf('fw1', { owner: OPERATOR })).toEqual([fs[2]]);
    expect(store.shadow.flowsOf('fw1', { tableId: 1, owner: 'acme' })).toHaveLength(2);
    expect(store.shadow.flowsOf('nobody')).toEqual([]);
  });

  it('groups: upsert, replace, remove, list', () => {
    store.shadow.upsertGroup({ vnf: 'fw1', groupId: 2, owner: 'acme', groupMod: Buffer.from('a') });
    store.shadow.upsertGroup({ vnf: 'fw1', groupId: 1, owner: 'acme', groupMod: Buffer.from('b') });
    store.shadow.upsertGroup({ vnf: 'fw1', groupId: 2, owner: OPERATOR, groupMod: Buffer.from('c') });
    store.shadow.upsertGroup({ vnf: 'fw2', groupId: 1, owner: 'acme', groupMod: Buffer.from('d') });
    expect(store.shadow.groupsOf('fw1')).toEqual([
      { vnf: 'fw1', groupId: 1, owner: 'acme', groupMod: Buffer.from('b') },
      { vnf: 'fw1', groupId: 2, owner: OPERATOR, groupMod: Buffer.from('c') },
    ]);
    store.shadow.removeGroup('fw1', 1);
    expect(store.shadow.groupsOf('fw1').map((g) => g.groupId)).toEqual([2]);
    expect(store.shadow.groupsOf('fw2').map((g) => g.groupId)).toEqual([1]);
  });

  it('meters: upsert, replace, remove, list', () => {
    store.shadow.upsertMeter({ vnf: 'fw1', meterId: 9, owner: 'acme', meterMod: Buffer.from('a') });
    store.shadow.upsertMeter({ vnf: 'fw1', meterId: 3, owner: 'acme', meterMod: Buffer.from('b') });
    store.shadow.upsertMeter({ vnf: 'fw1', meterId: 9, owner: 'acme', meterMod: Buffer.from('c') });
    expect(store.shadow.metersOf('fw1')).toEqual([
      { vnf: 'fw1', meterId: 3, owner: 'acme', meterMod: Buffer.from('b') },
      { vnf: 'fw1', meterId: 9, owner: 'acme', meterMod: Buffer.from('c') },
    ]);
    store.shadow.removeMeter('fw1', 3);
    expect(store.shadow.metersOf('fw1').map((m) => m.meterId)).toEqual([9]);
  });

  it('countsOf totals and splits by owner; clearInstance empties one instance only', () => {
    put(flow('fw1', 0, 1, 1, OPERATOR));
    put(flow('fw1', 0, 1, 2, OPERATOR));
    put(flow('fw1', 1, 1, 1));
    store.shadow.upsertGroup({ vnf: 'fw1', groupId: 1, owner: 'acme', groupMod: Buffer.from('g') });
    store.shadow.upsertMeter({ vnf: 'fw1', meterId: 1, owner: 'acme', meterMod: Buffer.from('m') });
    put(flow('fw2', 1, 1, 3));
    expect(store.shadow.countsOf('fw1')).toEqual({
      flows: 3,
      groups: 1,
      meters: 1,
      byOwner: { operator: { flows: 2, groups: 0, meters: 0 }, acme: { flows: 1, groups: 1, meters: 1 } },
    });
    expect(store.shadow.vnfs()).toEqual(['fw1', 'fw2']);
    store.shadow.clearInstance('fw1');
    expect(store.shadow.countsOf('fw1')).toEqual({ flows: 0, groups: 0, meters: 0, byOwner: {} });
    expect(store.shadow.countsOf('fw2').flows).toBe(1);
    expect(store.shadow.vnfs()).toEqual(['fw2']);
  });
});
