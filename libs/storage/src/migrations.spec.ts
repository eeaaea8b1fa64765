import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeMessage } from '@nicvisor/openflow';
import { FLOW_ROWS_PER_INSTANCE, Migration, MIGRATIONS, migrate, SCHEMA_VERSION, schemaVersion } from './migrations.js';
import { flowMod } from './spec-helpers.js';
import { DB_FILE, Store } from './store.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nicvisor-migrations-'));
  file = join(dir, DB_FILE);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const tables = (db: Database.Database) =>
  db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();

describe('migrations', () => {
  it('a new database gets every migration, in WAL mode', () => {
    const s = Store.open(file);
    expect(s.schemaVersion).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    expect(tables(s.db)).toEqual(['audit', 'counters', 'instance_ports', 'instances', 'shadow_flow_rows', 'shadow_groups', 'shadow_meters', 'tenants']);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    s.close();
  });

  it('opens a v1 database made by the earlier migration list, applies v2, v3 and v4 and keeps the data', () => {
    // A database as the first release wrote it: only migration 1.
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    expect(migrate(old, MIGRATIONS.slice(0, 1))).toEqual({ from: 0, to: 1 });
    expect(tables(old)).not.toContain('audit');
    old.prepare('INSERT INTO tenants (id, created_at) VALUES (?, ?)').run('acme', 1);
    old
      .prepare(
        `INSERT INTO instances (vnf, tenant, nic, datapath_id, ports, tables, quotas, channel_mode, channel_target, endpoint_port,
           request, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run('fw1', 'acme', 'embedded', '0000000000000abc', '[1,2]', '{"operator":[0],"tenant":[1],"virtual":true}', '{"flows":9}', 'listen', null, 16653, '{"vnf":"fw1"}', 1, 2);
    old.prepare('INSERT INTO instance_ports (nic, port, vnf) VALUES (?, ?, ?), (?, ?, ?)').run('embedded', 1, 'fw1', 'embedded', 2, 'fw1');
    const steering = encodeMessage(flowMod(0, 1, [{ field: 'in_port', value: 1 }], 1, 0xffffffffffffffffn));
    const tenants = encodeMessage(flowMod(1, 7, [], 2));
    const insertFlow = old.prepare('INSERT INTO shadow_flows VALUES (?, ?, ?, ?, ?, ?, ?)');
    insertFlow.run('fw1', 1, 7, Buffer.alloc(0), 'acme', 0, tenants);
    insertFlow.run('fw1', 0, 1, Buffer.from([0x80, 0, 0, 4, 0, 0, 0, 1]), 'operator', -1, steering);
    insertFlow.run('gone', 1, 1, Buffer.alloc(0), 'acme', 0, tenants); // no instance record: unreachable, dropped
    old.close();

    const s = Store.open(file);
    expect(s.schemaVersion).toBe(SCHEMA_VERSION);
    expect(s.instances.get('fw1')).toEqual({
      vnf: 'fw1',
      tenant: 'acme',
      nic: 'embedded',
      datapathId: '0000000000000abc',
      ports: [1, 2],
      tables: { operator: [0], tenant: [1], virtual: true },
      quotas: { flows: 9 },
      channel: { mode: 'listen', endpointPort: 16653 },
      request: { vnf: 'fw1' },
      createdAt: 1,
      updatedAt: 2,
    });
    // v4: flows in rows numbered within the instance (its number: 1), in the order the old key listed them.
    expect(s.shadow.flowsOf('fw1')).toEqual([
      { vnf: 'fw1', id: FLOW_ROWS_PER_INSTANCE + 1, tableId: 0, priority: 1, match: Buffer.from([0x80, 0, 0, 4, 0, 0, 0, 1]), owner: 'operator', cookie: 0xffffffffffffffffn, flowMod: steering },
      { vnf: 'fw1', id: FLOW_ROWS_PER_INSTANCE + 2, tableId: 1, priority: 7, match: Buffer.alloc(0), owner: 'acme', cookie: 0n, flowMod: tenants },
    ]);
    expect(s.db.prepare('SELECT count(*) FROM shadow_flow_rows').pluck().get()).toBe(2);
    expect(s.shadow.flowRowIds('fw1')!.take()).toBe(FLOW_ROWS_PER_INSTANCE + 3);
    // A new instance gets the next number, so rows of its own.
    s.instances.create({ ...s.instances.get('fw1')!, vnf: 'fw2', datapathId: '0000000000000abd', ports: [3], channel: { mode: 'listen' } });
    expect(s.shadow.flowRowIds('fw2')!.take()).toBe(2 * FLOW_ROWS_PER_INSTANCE + 1);
    // The new migration's table works, and its entries can name the old instances.
    s.audit.append({ actor: 'orchestrator', vnf: 'fw1', action: 'instance.get', result: 'ok' });
    expect(s.audit.query({ tenant: 'acme' })).toHaveLength(1);
    // v3: the datapath-id counter starts past every datapath id already given out.
    expect(s.counters.current('datapath-id')).toBe(0xabc);
    expect(s.counters.next('datapath-id')).toBe(0xabd);
    s.close();
  });

  it('counters go 1, 2, … and survive a reopen', () => {
    let s = Store.open(file);
    expect(s.counters.current('datapath-id')).toBe(0);
    expect([s.counters.next('datapath-id'), s.counters.next('datapath-id'), s.counters.next('other')]).toEqual([1, 2, 1]);
    s.close();
    s = Store.open(file);
    expect(s.counters.next('datapath-id')).toBe(3);
    s.close();
  });

  it('applies nothing to an up-to-date database', () => {
    Store.open(file).close();
    const db = new Database(file);
    expect(migrate(db)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    db.close();
  });

  it('rolls a failing migration back whole, leaving the version before it', () => {
    const db = new Database(file);
    migrate(db);
    const broken: Migration = {
      version: SCHEMA_VERSION + 1,
      description: 'fails half-way',
      up(d) {
        d.exec('CREATE TABLE half_done (x INTEGER)');
        throw new Error('boom');
      },
    };
    expect(() => migrate(db, [...MIGRATIONS, broken])).toThrow('boom');
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(tables(db)).not.toContain('half_done');
    db.close();
  });

  it('refuses a database newer than the code, and a list with gaps', () => {
    const db = new Database(file);
    migrate(db);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => Store.open(file)).toThrow(/newer/);
    const mem = new Database(':memory:');
    expect(() => migrate(mem, [MIGRATIONS[1]])).toThrow(/expected 1/);
    expect(schemaVersion(mem)).toBe(0);
    mem.close();
  });
});
