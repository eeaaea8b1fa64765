/**
 * A batch's bytes, written back by compileBatchWriter: operations apply in
 * the order they were queued, across the multi-row runs of puts and
 * deletes, and every kind of value comes back as it was queued.
 */
import Database from 'better-sqlite3';
import { Batch, compileBatchWriter, OP_AUDIT, OP_FLOW_DELETE, OP_FLOW_PUT, OP_GROUP_UPSERT } from './batch.js';

function db(): Database.Database {
  const d = new Database(':memory:');
  d.exec(`
    CREATE TABLE instances (vnf TEXT, tenant TEXT);
    CREATE TABLE shadow_flow_rows (id INTEGER PRIMARY KEY, operator INTEGER NOT NULL, flow_mod BLOB NOT NULL);
    CREATE TABLE shadow_groups (vnf TEXT, group_id INTEGER, owner TEXT, group_mod BLOB, PRIMARY KEY (vnf, group_id));
    CREATE TABLE shadow_meters (vnf TEXT, meter_id INTEGER, owner TEXT, meter_mod BLOB, PRIMARY KEY (vnf, meter_id));
    CREATE TABLE audit (time, actor, tenant, vnf, action, detail, result, error_type, error_code);
  `);
  return d;
}

const ID = 7 * 2 ** 32;
const bytes = (n: number) => Buffer.from([n & 255, (n >> 8) & 255, 1, 2, 3]);

describe('Batch and compileBatchWriter', () => {
  it('applies puts and deletes in queued order, within and across runs of 32', () => {
    const d = db();
    const b = new Batch();
    for (let i = 1; i <= 40; i++) b.op(OP_FLOW_PUT).num(ID + i).num(i % 2).bytes(bytes(i));
    b.op(OP_FLOW_PUT).num(ID + 3).num(1).bytes(bytes(300)); // replaces row 3, after the first run of 32
    for (let i = 1; i <= 35; i++) if (i % 5 === 0) b.op(OP_FLOW_DELETE).num(ID + i);
    b.op(OP_FLOW_PUT).num(ID + 10).num(0).bytes(bytes(1000)); // deleted just before: back again
    compileBatchWriter(d)(b.take());
    const rows = d.prepare('SELECT id, operator, flow_mod FROM shadow_flow_rows ORDER BY id').all() as Array<{ id: number; operator: number; flow_mod: Buffer }>;
    const gone = [5, 15, 20, 25, 30, 35];
    expect(rows.map((r) => r.id - ID)).toEqual(Array.from({ length: 40 }, (_, k) => k + 1).filter((i) => !gone.includes(i)));
    expect(rows.find((r) => r.id === ID + 3)).toEqual({ id: ID + 3, operator: 1, flow_mod: bytes(300) });
    expect(rows.find((r) => r.id === ID + 10)!.flow_mod).toEqual(bytes(1000));
    expect(rows.find((r) => r.id === ID + 40)).toEqual({ id: ID + 40, operator: 0, flow_mod: bytes(40) });
  });

  it('gives back strings (UTF-8), nulls, large numbers and bytes as queued', () => {
    const d = db();
    const b = new Batch();
    b.op(OP_GROUP_UPSERT).value('fw-ü').num(0xf0000001).value('acme').bytes(Buffer.from('grp'));
    b.op(OP_AUDIT).value(1.5e12).value('opérateur ✓').value(null).value('fw-ü').value('flow-mod.add').value('{"n":1}').value('ok').value(null).value(null);
    const batch = b.take();
    expect(b.view()).toHaveLength(0);
    compileBatchWriter(d)(batch);
    expect(d.prepare('SELECT * FROM shadow_groups').all()).toEqual([{ vnf: 'fw-ü', group_id: 0xf0000001, owner: 'acme', group_mod: Buffer.from('grp') }]);
    expect(d.prepare('SELECT * FROM audit').all()).toEqual([
      { time: 1.5e12, actor: 'opérateur ✓', tenant: null, vnf: 'fw-ü', action: 'flow-mod.add', detail: '{"n":1}', result: 'ok', error_type: null, error_code: null },
    ]);
  });

  it('a failed batch changes nothing (one transaction)', () => {
    const d = db();
    const b = new Batch();
    b.op(OP_FLOW_PUT).num(ID + 1).num(0).bytes(bytes(1));
    b.op(99);
    expect(() => compileBatchWriter(d)(b.take())).toThrow('bad queued operation 99');
    expect(d.prepare('SELECT count(*) FROM shadow_flow_rows').pluck().get()).toBe(0);
  });
});
