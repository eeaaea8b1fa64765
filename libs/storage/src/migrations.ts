/**
 * The schema, as an ordered list of migrations. A database records the last
 * one applied in `PRAGMA user_version`; opening it applies the newer ones in
 * order, each in its own transaction together with the version bump, so a
 * failing migration leaves the database exactly at the version before it.
 *
 * Never edit a migration that has shipped: append a new one.
 */
import type { Database } from 'better-sqlite3';

export interface Migration {
  /** 1, 2, 3, … in order, no gaps. */
  version: number;
  description: string;
  up(db: Database): void;
}

/** Flow row ids an instance has: its rows are number × this + 1 … number × this + this - 1. */
export const FLOW_ROWS_PER_INSTANCE = 2 ** 32;
/** The counter instance numbers come from. */
export const INSTANCE_NUMBER_COUNTER = 'instance-number';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'tenants, instances and their ports, shadow flows / groups / meters',
    up(db) {
      db.exec(`
        CREATE TABLE tenants (
          id          TEXT PRIMARY KEY,
          created_at  INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE instances (
          vnf             TEXT PRIMARY KEY,
          tenant          TEXT NOT NULL REFERENCES tenants(id),
          nic             TEXT NOT NULL,
          datapath_id     TEXT NOT NULL UNIQUE CHECK (length(datapath_id) = 16),
          ports           TEXT NOT NULL,   -- JSON array, in the order given
          tables          TEXT NOT NULL,   -- JSON {operator:[…], tenant:[…], virtual}
          quotas          TEXT NOT NULL,   -- JSON object
          channel_mode    TEXT NOT NULL CHECK (channel_mode IN ('listen', 'connect')),
          channel_target  TEXT,
          endpoint_port   INTEGER UNIQUE,
          request         TEXT NOT NULL,   -- JSON: the create request body
          created_at      INTEGER NOT NULL,
          updated_at      INTEGER NOT NULL
        );
        CREATE INDEX instances_tenant ON instances(tenant);

        -- One row per attached NIC port: the primary key makes a port belong to one vNF.
        CREATE TABLE instance_ports (
          nic   TEXT NOT NULL,
          port  INTEGER NOT NULL,
          vnf   TEXT NOT NULL REFERENCES instances(vnf) ON DELETE CASCADE,
          PRIMARY KEY (nic, port)
        ) WITHOUT ROWID;
        CREATE INDEX instance_ports_vnf ON instance_ports(vnf);

        -- Shadow tables. No foreign key to instances: batched writes never fail on
        -- ordering, and deleting an instance deletes its rows explicitly.
        CREATE TABLE shadow_flows (
          vnf       TEXT NOT NULL,
          table_id  INTEGER NOT NULL,
          priority  INTEGER NOT NULL,
          match     BLOB NOT NULL,      -- canonical OXM TLVs
          owner     TEXT NOT NULL,
          cookie    INTEGER NOT NULL,   -- 64 bits, stored signed
          flow_mod  BLOB NOT NULL,      -- encoded OFPT_FLOW_MOD (ADD)
          PRIMARY KEY (vnf, table_id, priority DESC, match)  -- the order flowsOf lists them in
        ) WITHOUT ROWID;

        CREATE TABLE shadow_groups (
          vnf        TEXT NOT NULL,
          group_id   INTEGER NOT NULL,
          owner      TEXT NOT NULL,
          group_mod  BLOB NOT NULL,     -- encoded OFPT_GROUP_MOD (ADD)
          PRIMARY KEY (vnf, group_id)
        ) WITHOUT ROWID;

        CREATE TABLE shadow_meters (
          vnf        TEXT NOT NULL,
          meter_id   INTEGER NOT NULL,
          owner      TEXT NOT NULL,
          meter_mod  BLOB NOT NULL,     -- encoded OFPT_METER_MOD (ADD)
          PRIMARY KEY (vnf, meter_id)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    description: 'append-only audit log',
    up(db) {
      db.exec(`
        CREATE TABLE audit (
          id          INTEGER PRIMARY KEY,  -- rows are never deleted, so ids only grow
          time        INTEGER NOT NULL,
          actor       TEXT NOT NULL,
          tenant      TEXT,
          vnf         TEXT,
          action      TEXT NOT NULL,
          detail      TEXT,               -- JSON
          result      TEXT NOT NULL CHECK (result IN ('ok', 'denied', 'error')),
          error_type  TEXT,
          error_code  TEXT
        );
        CREATE INDEX audit_vnf ON audit(vnf, id);
        CREATE INDEX audit_tenant ON audit(tenant, id);
        CREATE INDEX audit_time ON audit(time);
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      `);
    },
  },
  {
    version: 3,
    description: 'named counters (the datapath-id counter), seeded from the stored instances',
    up(db) {
      db.exec(`
        CREATE TABLE counters (
          name   TEXT PRIMARY KEY,
          value  INTEGER NOT NULL      -- the last value handed out
        ) WITHOUT ROWID;
      `);
      // Never hand out a datapath id an earlier release already gave an instance.
      const ids = db.prepare('SELECT datapath_id FROM instances').pluck().all() as string[];
      const max = ids.reduce((m, id) => (BigInt(`0x${id}`) > m ? BigInt(`0x${id}`) : m), 0n);
      if (max > 0n && max <= BigInt(Number.MAX_SAFE_INTEGER)) {
        db.prepare('INSERT INTO counters (name, value) VALUES (?, ?)').run('datapath-id', Number(max));
      }
    },
  },
  {
    version: 4,
    description: 'shadow flows as rows with an id the controller assigns (instance number × 2^32 + entry number)',
    up(db) {
      // A composite (vnf, table, priority, match) key made each flow write a B-tree search on text and
      // blob keys; an integer id the in-memory shadow hands out makes it an append or a lookup by id.
      db.exec(`
        ALTER TABLE instances ADD COLUMN number INTEGER;  -- the shadow's name for the instance, never reused
        CREATE UNIQUE INDEX instances_number ON instances(number);
        CREATE TABLE shadow_flow_rows (
          id        INTEGER PRIMARY KEY,  -- instance number × 2^32 + entry number (1 … 2^32 - 1)
          operator  INTEGER NOT NULL CHECK (operator IN (0, 1)),  -- 1: the operator's entry, 0: the tenant's
          flow_mod  BLOB NOT NULL         -- encoded OFPT_FLOW_MOD (ADD)
        );
      `);
      const vnfs = db.prepare('SELECT vnf FROM instances ORDER BY created_at, vnf').pluck().all() as string[];
      const setNumber = db.prepare('UPDATE instances SET number = ? WHERE vnf = ?');
      const rowsOf = db.prepare('SELECT owner, flow_mod FROM shadow_flows WHERE vnf = ? ORDER BY table_id, priority DESC, match').raw();
      const insert = db.prepare('INSERT INTO shadow_flow_rows (id, operator, flow_mod) VALUES (?, ?, ?)');
      vnfs.forEach((vnf, i) => {
        const number = i + 1;
        setNumber.run(number, vnf);
        let entry = 0;
        for (const [owner, flowMod] of rowsOf.all(vnf) as Array<[string, Buffer]>) insert.run(number * FLOW_ROWS_PER_INSTANCE + ++entry, owner === 'operator' ? 1 : 0, flowMod);
      });
      if (vnfs.length > 0) db.prepare('INSERT INTO counters (name, value) VALUES (?, ?)').run(INSTANCE_NUMBER_COUNTER, vnfs.length);
      // Rows of a vNF without an instance record were unreachable already.
      db.exec('DROP TABLE shadow_flows');
    },
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings `db` up to the last of `migrations`. Returns the versions before and
 * after. Throws if the database is newer than the list (written by a later
 * nicvisor) or the list is not numbered 1, 2, 3, …; a migration that throws
 * is rolled back and the error rethrown.
 */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i} has version ${m.version}, expected ${i + 1}`);
  });
  const from = schemaVersion(db);
  const latest = migrations.length;
  if (from > latest) {
    throw new Error(`database schema version ${from} is newer than this nicvisor's (${latest})`);
  }
  for (const m of migrations.slice(from)) {
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return { from, to: Math.max(from, latest) };
}
