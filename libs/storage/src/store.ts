/**
 * nicvisor's persistence: one embedded SQLite database (better-sqlite3,
 * synchronous), WAL mode, versioned schema (migrations.ts).
 *
 * Two kinds of writes:
 * - **Immediate** — tenants and instances: rare, and their callers need the
 *   outcome (conflicts), so each runs in its own transaction at once.
 * - **Queued** — shadow entries and audit entries, the hot path: each call
 *   only appends to an in-memory queue; `flush()` writes the whole queue in
 *   one transaction (the controller flushes at every barrier and on a short
 *   timer). The queue is also flushed when it reaches `maxPending` operations,
 *   by the optional `flushIntervalMs` timer, before any immediate write (so
 *   writes land in the order they were made), before any read of shadow or
 *   audit data (so reads see every write made before them), and by `close()`.
 *
 * A failed flush rolls back, keeps the queue and rethrows: nothing is lost
 * while the cause (e.g. a full disk) lasts; `discardPending()` drops it.
 *
 * With `writerThread` (a database file only), queued batches are written by
 * a thread of the store's own (write-thread.ts), so the thread that queues
 * them does not wait for SQLite: `flushAsync()` hands the queue over and
 * resolves once it is committed (the same guarantee `flush()` gives when it
 * returns); `flush()` hands it over and blocks until everything handed over
 * is committed (reads and immediate writes call it, so they still see every
 * earlier write); a full queue (`maxPending`) and the timer hand it over
 * without waiting. A batch the thread fails to write is kept there, with
 * every later one, and retried with the next.
 *
 * The store does not check that a shadow or audit write names an existing
 * instance (the controller owns that invariant); deleting an instance deletes
 * its shadow entries, never its audit entries.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import {
  compileBatchWriter,
  OP_AUDIT,
  OP_CLEAR,
  OP_FLOW_DELETE,
  OP_FLOW_PUT,
  OP_GROUP_REMOVE,
  OP_GROUP_UPSERT,
  OP_METER_REMOVE,
  OP_METER_UPSERT,
  Batch,
} from './batch.js';
import { FLOW_MOD_AT } from '@nicvisor/openflow';
import { canonicalJson, toJson } from './json.js';
import { canonicalOxms } from './flow-key.js';
import { FlowRowIds } from './flow-row-ids.js';
import { FLOW_ROWS_PER_INSTANCE, INSTANCE_NUMBER_COUNTER, MIGRATIONS, migrate, schemaVersion } from './migrations.js';
import { WriterThread } from './writer.js';
import {
  AuditEntry,
  AuditQuery,
  AuditRecord,
  AuditResult,
  ChannelConfig,
  InstanceCounts,
  InstancePatch,
  InstanceRecord,
  NewInstance,
  OPERATOR,
  Principal,
  ShadowCounts,
  ShadowFlow,
  ShadowGroup,
  ShadowMeter,
  StoreConflictError,
  StoreInputError,
  TenantRecord,
} from './types.js';

/** Queues at most this long are committed on the store's own connection by `commit`, not handed to its writer thread. */
const INLINE_OPS = 16;

/** The database file inside a data directory. */
export const DB_FILE = 'nicvisor.db';

export interface StoreOptions {
  /** Flush as soon as this many operations are queued (default 10,000). */
  maxPending?: number;
  /** Also flush every this many milliseconds when something is queued (default 0: no timer). */
  flushIntervalMs?: number;
  /** Called with the error of a timer-driven flush (default: process.emitWarning). */
  onFlushError?: (err: unknown) => void;
  /** The clock for created/updated/audit times (default Date.now). */
  now?: () => number;
  /** Told after each flush that wrote something: how many operations, and the seconds the transaction took (metrics). */
  onFlush?: (operations: number, seconds: number) => void;
  /** Write queued batches on a thread of the store's own (see above; ignored for ':memory:'). Default false. */
  writerThread?: boolean;
}

/** `NICVISOR_DATA_DIR`, or `./data`, as an absolute path. */
export function resolveDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.NICVISOR_DATA_DIR || './data');
}

/** A datapath id as the store keeps it: 16 lower-case hex digits. */
export function formatDatapathId(dpid: bigint | number): string {
  const n = BigInt(dpid);
  if (n < 0n || n > 0xffffffffffffffffn) throw new StoreInputError(`datapath id ${dpid} is not a 64-bit unsigned value`);
  return n.toString(16).padStart(16, '0');
}

const AUDIT_RESULTS: ReadonlySet<string> = new Set<AuditResult>(['ok', 'denied', 'error']);
const DPID = /^[0-9a-f]{16}$/;
const U32 = 0xffffffff;

type Stmt = Database.Statement<unknown[], unknown>;

interface InstanceRow {
  vnf: string;
  tenant: string;
  nic: string;
  datapath_id: string;
  ports: string;
  tables: string;
  quotas: string;
  channel_mode: 'listen' | 'connect';
  channel_target: string | null;
  endpoint_port: number | null;
  request: string;
  created_at: number;
  updated_at: number;
}

interface AuditRow {
  id: number;
  time: number;
  actor: string;
  tenant: string | null;
  vnf: string | null;
  action: string;
  detail: string | null;
  result: AuditResult;
  error_type: string | null;
  error_code: string | null;
}

function isU32(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 0 && (n as number) <= U32;
}

function requireName(what: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) throw new StoreInputError(`${what} must be a non-empty string`);
  return v;
}

function checkPorts(ports: unknown): number[] {
  if (!Array.isArray(ports) || !ports.every(isU32)) throw new StoreInputError('ports must be an array of 32-bit port numbers');
  if (new Set(ports).size !== ports.length) throw new StoreInputError('ports must not repeat');
  return ports;
}

function checkChannel(c: ChannelConfig): void {
  if (c === null || typeof c !== 'object' || (c.mode !== 'listen' && c.mode !== 'connect')) {
    throw new StoreInputError("channel.mode must be 'listen' or 'connect'");
  }
  if (c.endpointPort !== undefined && (!Number.isInteger(c.endpointPort) || c.endpointPort < 0 || c.endpointPort > 0xffff)) {
    throw new StoreInputError('channel.endpointPort must be a TCP port number');
  }
}

function timeOf(what: string, t: number | Date | string): number {
  const ms = typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : t.getTime();
  if (!Number.isFinite(ms)) throw new StoreInputError(`${what}: ${String(t)} is not a time`);
  return ms;
}

function rowToInstance(r: InstanceRow): InstanceRecord {
  const channel: ChannelConfig = { mode: r.channel_mode };
  if (r.channel_target !== null) channel.target = r.channel_target;
  if (r.endpoint_port !== null) channel.endpointPort = r.endpoint_port;
  return {
    vnf: r.vnf,
    tenant: r.tenant,
    nic: r.nic,
    datapathId: r.datapath_id,
    ports: JSON.parse(r.ports) as number[],
    tables: JSON.parse(r.tables) as InstanceRecord['tables'],
    quotas: JSON.parse(r.quotas) as InstanceRecord['quotas'],
    channel,
    request: JSON.parse(r.request) as unknown,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function rowToAudit(r: AuditRow): AuditRecord {
  return {
    id: r.id,
    time: r.time,
    actor: r.actor,
    tenant: r.tenant,
    vnf: r.vnf,
    action: r.action,
    detail: r.detail === null ? null : (JSON.parse(r.detail) as unknown),
    result: r.result,
    errorType: r.error_type,
    errorCode: r.error_code,
  };
}

export class Store {
  /** Tenants (immediate writes). */
  readonly tenants: TenantRepository;
  /** Instances (immediate writes). */
  readonly instances: InstanceRepository;
  /** Shadow flows, groups and meters (queued writes). */
  readonly shadow: ShadowRepository;
  /** The append-only audit log (queued writes). */
  readonly audit: AuditRepository;
  /** Named counters, e.g. the datapath-id counter (immediate writes). */
  readonly counters: CounterRepository;

  /** @internal */ readonly db: Database.Database;
  /** @internal */ readonly now: () => number;
  private readonly queue = new Batch();
  private ops = 0;
  private readonly maxPending: number;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly stmts = new Map<string, Stmt>();
  private readonly writeBatch: (batch: Buffer) => void;
  private readonly onFlush: ((operations: number, seconds: number) => void) | undefined;
  private readonly writer: WriterThread | undefined;
  private closed = false;

  private constructor(
    db: Database.Database,
    /** The database file, or ':memory:'. */
    readonly path: string,
    options: StoreOptions,
  ) {
    this.db = db;
    this.now = options.now ?? Date.now;
    this.maxPending = Math.max(1, options.maxPending ?? 10_000);
    this.onFlush = options.onFlush;
    this.tenants = new TenantRepository(this);
    this.instances = new InstanceRepository(this);
    this.shadow = new ShadowRepository(this);
    this.audit = new AuditRepository(this);
    this.counters = new CounterRepository(this);
    this.writeBatch = compileBatchWriter(db);
    const onError = options.onFlushError ?? ((err: unknown) => process.emitWarning(`nicvisor store flush failed: ${String(err)}`));
    if (options.writerThread === true && path !== ':memory:') this.writer = new WriterThread(path, onError, this.onFlush);
    const every = options.flushIntervalMs ?? 0;
    if (every > 0) {
      this.timer = setInterval(() => {
        try {
          if (this.writer !== undefined) this.handOver();
          else this.flush();
        } catch (err) {
          onError(err);
        }
      }, every);
      this.timer.unref();
    }
  }

  /**
   * Opens (creating if needed) the database at `path` (a file, or ':memory:'),
   * sets WAL mode and brings the schema up to date.
   */
  static open(path: string, options: StoreOptions = {}): Store {
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      // 64 MiB of page cache: the shadow of a few hundred thousand flows stays in memory.
      db.pragma('cache_size = -65536');
      migrate(db, MIGRATIONS);
    } catch (err) {
      db.close();
      throw err;
    }
    return new Store(db, path, options);
  }

  /** Opens `<dir>/nicvisor.db`, creating the directory; `dir` defaults to `resolveDataDir()`. */
  static openDataDir(dir: string = resolveDataDir(), options: StoreOptions = {}): Store {
    mkdirSync(dir, { recursive: true });
    return Store.open(join(dir, DB_FILE), options);
  }

  /** The schema version of the open database (`PRAGMA user_version`). */
  get schemaVersion(): number {
    return schemaVersion(this.db);
  }

  /** Number of queued operations not yet flushed. */
  get pending(): number {
    return this.ops;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /**
   * Commits what is queued, waiting only when it must: with nothing queued
   * and nothing in flight, nothing to do; a few operations (at most
   * INLINE_OPS) with nothing in flight on the writer thread are written
   * here and now (a barrier behind a flow-mod or two is answered without two
   * hops between threads); otherwise as `flushAsync`. A promise only when
   * there is something to wait for; a failed write throws, as `flush` does.
   */
  commit(): void | Promise<number> {
    if (this.writer === undefined || (this.writer.idle && this.ops <= INLINE_OPS)) {
      this.flush();
      return;
    }
    return this.flushAsync();
  }

  /**
   * Writes every queued operation in one transaction; returns how many.
   * With the writer thread: when it has batches in flight, hands the queue
   * over too and waits until everything handed over so far is committed;
   * otherwise writes it on this connection.
   */
  flush(): number {
    // With nothing in flight on the thread, writing here keeps the order and never waits for the thread (e.g. while it starts).
    if (this.writer !== undefined && !this.writer.idle) {
      const n = this.handOver();
      this.writer.waitCommitted();
      return n;
    }
    if (this.ops === 0) return 0;
    const n = this.ops;
    const started = performance.now();
    // Written in place; a failed write throws and leaves the queue as it was, to be written again.
    this.writeBatch(this.queue.view());
    this.queue.clear();
    this.ops = 0;
    this.onFlush?.(n, (performance.now() - started) / 1000);
    return n;
  }

  /**
   * Like flush, without blocking: resolves (with how many operations it
   * handed over) once every operation queued before it is committed. Without
   * the writer thread it is flush.
   */
  flushAsync(): Promise<number> {
    if (this.writer === undefined) {
      try {
        return Promise.resolve(this.flush());
      } catch (e) {
        return Promise.reject(e as Error);
      }
    }
    const n = this.handOver();
    return this.writer.committed().then(() => n);
  }

  /** The queue to the writer thread; returns how many operations. */
  private handOver(): number {
    const n = this.ops;
    if (n === 0) return 0;
    this.ops = 0;
    this.writer!.post(this.queue.take(), n);
    return n;
  }

  /** Drops every queued operation without writing it (and the writer thread's failed ones); returns how many were queued here. */
  discardPending(): number {
    const n = this.ops;
    this.queue.clear();
    this.ops = 0;
    this.writer?.discard();
    return n;
  }

  /** Flushes, then closes the database. Closing twice is a no-op. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    try {
      this.flush();
    } finally {
      this.writer?.close();
      this.db.close();
    }
  }

  /** @internal A prepared statement, cached by its text. */
  stmt(sql: string): Stmt {
    let s = this.stmts.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /** @internal Runs `fn` in one immediate transaction, after flushing the queue. */
  write<T>(fn: () => T): T {
    this.flush();
    return this.db.transaction(fn).immediate();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('the store is closed');
  }

  // Queued operations are written as bytes as they come (Batch): nothing allocated per operation.

  /** The queue reached maxPending: written now, or handed to the writer thread. */
  private full(): void {
    if (this.writer !== undefined) this.handOver();
    else this.flush();
  }

  /** @internal The batch to queue an operation in; call `queued()` once its arguments are written. */
  enqueue(op: number): Batch {
    this.checkOpen();
    return this.queue.op(op);
  }

  /** @internal An operation was queued (enqueue). */
  queued(): void {
    if (++this.ops >= this.maxPending) this.full();
  }
}

/** Tenants: created on first use (by `ensure` or by creating one of their instances). */
export class TenantRepository {
  constructor(private readonly store: Store) {}

  private static readonly SELECT = `SELECT t.id AS id, t.created_at AS createdAt,
      (SELECT json_group_array(vnf) FROM (SELECT vnf FROM instances WHERE tenant = t.id ORDER BY vnf)) AS vnfs
    FROM tenants t`;

  private static row(r: { id: string; createdAt: number; vnfs: string }): TenantRecord {
    return { id: r.id, createdAt: r.createdAt, vnfs: JSON.parse(r.vnfs) as string[] };
  }

  /** The tenant, created now if it did not exist. */
  ensure(id: string): TenantRecord {
    requireName('tenant', id);
    this.store.write(() => this.store.stmt('INSERT OR IGNORE INTO tenants (id, created_at) VALUES (?, ?)').run(id, this.store.now()));
    return this.get(id)!;
  }

  get(id: string): TenantRecord | undefined {
    const r = this.store.stmt(`${TenantRepository.SELECT} WHERE t.id = ?`).get(id) as Parameters<typeof TenantRepository.row>[0] | undefined;
    return r === undefined ? undefined : TenantRepository.row(r);
  }

  /** Every tenant, by id. */
  list(): TenantRecord[] {
    const rows = this.store.stmt(`${TenantRepository.SELECT} ORDER BY t.id`).all() as Parameters<typeof TenantRepository.row>[0][];
    return rows.map(TenantRepository.row);
  }

  /** Deletes a tenant that has no instances; false if there was none; StoreConflictError if it has instances. */
  delete(id: string): boolean {
    return this.store.write(() => {
      const vnf = this.store.stmt('SELECT vnf FROM instances WHERE tenant = ? LIMIT 1').pluck().get(id) as string | undefined;
      if (vnf !== undefined) throw new StoreConflictError('tenant-has-instances', `tenant ${id} still has instance ${vnf}`, vnf);
      return this.store.stmt('DELETE FROM tenants WHERE id = ?').run(id).changes > 0;
    });
  }
}

/** Instances, one per vNF. Every write is one transaction and checks the unique resources. */
export class InstanceRepository {
  constructor(private readonly store: Store) {}

  private static readonly SELECT = 'SELECT * FROM instances';

  private validate(i: NewInstance): void {
    requireName('vnf', i.vnf);
    requireName('tenant', i.tenant);
    requireName('nic', i.nic);
    if (typeof i.datapathId !== 'string' || !DPID.test(i.datapathId)) {
      throw new StoreInputError(`datapathId ${String(i.datapathId)} is not 16 lower-case hex digits`);
    }
    checkPorts(i.ports);
    checkChannel(i.channel);
    if (i.tables === null || typeof i.tables !== 'object') throw new StoreInputError('tables must be an object');
    if (i.quotas === null || typeof i.quotas !== 'object') throw new StoreInputError('quotas must be an object');
  }

  /** Throws StoreConflictError if a port, the datapath id or the endpoint port is held by another vNF. */
  private checkFree(vnf: string, nic: string, ports: number[], datapathId: string | undefined, endpointPort: number | undefined): void {
    const s = this.store;
    const portOwner = s.stmt('SELECT vnf FROM instance_ports WHERE nic = ? AND port = ?').pluck();
    for (const p of ports) {
      const holder = portOwner.get(nic, p) as string | undefined;
      if (holder !== undefined && holder !== vnf) {
        throw new StoreConflictError('port-in-use', `port ${p} of NIC ${nic} is attached to ${holder}`, holder);
      }
    }
    if (datapathId !== undefined) {
      const holder = s.stmt('SELECT vnf FROM instances WHERE datapath_id = ?').pluck().get(datapathId) as string | undefined;
      if (holder !== undefined && holder !== vnf) {
        throw new StoreConflictError('datapath-in-use', `datapath id ${datapathId} belongs to ${holder}`, holder);
      }
    }
    if (endpointPort !== undefined) {
      const holder = s.stmt('SELECT vnf FROM instances WHERE endpoint_port = ?').pluck().get(endpointPort) as string | undefined;
      if (holder !== undefined && holder !== vnf) {
        throw new StoreConflictError('endpoint-in-use', `endpoint port ${endpointPort} belongs to ${holder}`, holder);
      }
    }
  }

  private insertPorts(vnf: string, nic: string, ports: number[]): void {
    const ins = this.store.stmt('INSERT INTO instance_ports (nic, port, vnf) VALUES (?, ?, ?)');
    for (const p of ports) ins.run(nic, p, vnf);
  }

  /**
   * Stores a new instance (creating its tenant if needed). StoreConflictError
   * ('vnf-exists', 'port-in-use', 'datapath-in-use', 'endpoint-in-use') if
   * it cannot; StoreInputError on malformed input.
   */
  create(input: NewInstance): InstanceRecord {
    this.validate(input);
    const s = this.store;
    return s.write(() => {
      const existing = this.get(input.vnf);
      if (existing !== undefined) throw new StoreConflictError('vnf-exists', `vNF ${input.vnf} already has an instance`, input.vnf);
      this.checkFree(input.vnf, input.nic, input.ports, input.datapathId, input.channel.endpointPort);
      const now = s.now();
      const created = input.createdAt ?? now;
      s.stmt('INSERT OR IGNORE INTO tenants (id, created_at) VALUES (?, ?)').run(input.tenant, now);
      const number = s.counters.bump(INSTANCE_NUMBER_COUNTER);
      s.stmt(
        `INSERT INTO instances (vnf, tenant, nic, datapath_id, ports, tables, quotas, channel_mode, channel_target,
           endpoint_port, request, created_at, updated_at, number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        input.vnf,
        input.tenant,
        input.nic,
        input.datapathId,
        toJson(input.ports),
        toJson(input.tables),
        toJson(input.quotas),
        input.channel.mode,
        input.channel.target ?? null,
        input.channel.endpointPort ?? null,
        toJson(input.request ?? null),
        created,
        created,
        number,
      );
      this.insertPorts(input.vnf, input.nic, input.ports);
      return this.get(input.vnf)!;
    });
  }

  /**
   * Idempotent create: if the vNF has no instance, creates it (`created:
   * true`); if it has one made from the same request body (`sameRequest`),
   * returns that one (`created: false`); otherwise StoreConflictError
   * ('different-request', or whatever `create` throws).
   */
  createOrGet(input: NewInstance): { instance: InstanceRecord; created: boolean } {
    this.validate(input);
    return this.store.write(() => {
      const existing = this.get(input.vnf);
      if (existing === undefined) return { instance: this.create(input), created: true };
      if (canonicalJson(existing.request) !== canonicalJson(input.request ?? null)) {
        throw new StoreConflictError('different-request', `vNF ${input.vnf} already has an instance made from a different request`, input.vnf);
      }
      return { instance: existing, created: false };
    });
  }

  get(vnf: string): InstanceRecord | undefined {
    const r = this.store.stmt(`${InstanceRepository.SELECT} WHERE vnf = ?`).get(vnf) as InstanceRow | undefined;
    return r === undefined ? undefined : rowToInstance(r);
  }

  /** The instance with this datapath id (16 hex digits, any case), as a NIC connection reports it. */
  byDatapathId(datapathId: string): InstanceRecord | undefined {
    const r = this.store.stmt(`${InstanceRepository.SELECT} WHERE datapath_id = ?`).get(datapathId.toLowerCase()) as InstanceRow | undefined;
    return r === undefined ? undefined : rowToInstance(r);
  }

  /** The vNF a NIC port is attached to, if any. */
  portOwner(nic: string, port: number): string | undefined {
    return this.store.stmt('SELECT vnf FROM instance_ports WHERE nic = ? AND port = ?').pluck().get(nic, port) as string | undefined;
  }

  /** Instances by vnf, optionally only a tenant's and/or a NIC's. */
  list(filter: { tenant?: string; nic?: string } = {}): InstanceRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.tenant !== undefined) {
      where.push('tenant = ?');
      args.push(filter.tenant);
    }
    if (filter.nic !== undefined) {
      where.push('nic = ?');
      args.push(filter.nic);
    }
    const sql = `${InstanceRepository.SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY vnf`;
    return (this.store.stmt(sql).all(...args) as InstanceRow[]).map(rowToInstance);
  }

  /**
   * Changes ports, quotas, tables, channel and/or the stored request; bumps
   * updatedAt. Undefined if the vNF has no instance; StoreConflictError if a
   * new port or endpoint port is held by another vNF.
   */
  update(vnf: string, patch: InstancePatch): InstanceRecord | undefined {
    if (patch.ports !== undefined) checkPorts(patch.ports);
    if (patch.channel !== undefined) checkChannel(patch.channel);
    const s = this.store;
    return s.write(() => {
      const cur = this.get(vnf);
      if (cur === undefined) return undefined;
      const next: InstanceRecord = {
        ...cur,
        ports: patch.ports ?? cur.ports,
        quotas: patch.quotas ?? cur.quotas,
        tables: patch.tables ?? cur.tables,
        channel: patch.channel ?? cur.channel,
        request: patch.request !== undefined ? patch.request : cur.request,
        updatedAt: Math.max(s.now(), cur.updatedAt),
      };
      this.checkFree(vnf, cur.nic, next.ports, undefined, next.channel.endpointPort);
      s.stmt(
        `UPDATE instances SET ports = ?, tables = ?, quotas = ?, channel_mode = ?, channel_target = ?, endpoint_port = ?,
           request = ?, updated_at = ? WHERE vnf = ?`,
      ).run(
        toJson(next.ports),
        toJson(next.tables),
        toJson(next.quotas),
        next.channel.mode,
        next.channel.target ?? null,
        next.channel.endpointPort ?? null,
        toJson(next.request ?? null),
        next.updatedAt,
        vnf,
      );
      if (patch.ports !== undefined) {
        s.stmt('DELETE FROM instance_ports WHERE vnf = ?').run(vnf);
        this.insertPorts(vnf, cur.nic, next.ports);
      }
      return this.get(vnf)!;
    });
  }

  /** Deletes the instance, its ports and its shadow entries (not its audit entries); false if there was none. */
  delete(vnf: string): boolean {
    const s = this.store;
    return s.write(() => {
      const first = s.shadow.firstFlowRow(vnf);
      if (first !== undefined) s.stmt(`DELETE FROM shadow_flow_rows WHERE id BETWEEN @first AND @first + ${FLOW_ROWS_PER_INSTANCE - 1}`).run({ first });
      s.stmt('DELETE FROM shadow_groups WHERE vnf = ?').run(vnf);
      s.stmt('DELETE FROM shadow_meters WHERE vnf = ?').run(vnf);
      return s.stmt('DELETE FROM instances WHERE vnf = ?').run(vnf).changes > 0;
    });
  }
}

/**
 * The per-instance shadow of what is installed on the NIC and who installed
 * it. Writes are queued (see Store); reads flush first.
 */
export class ShadowRepository {
  constructor(private readonly store: Store) {}

  /** The first flow row id of the vNF's instance (never a row's: see FlowRowIds); undefined without an instance record. */
  firstFlowRow(vnf: string): number | undefined {
    const n = this.store.stmt('SELECT number FROM instances WHERE vnf = ?').pluck().get(vnf) as number | null | undefined;
    return n === undefined || n === null ? undefined : n * FLOW_ROWS_PER_INSTANCE;
  }

  /**
   * The ids for the vNF's flow rows, continuing after the highest one stored
   * (the caller, the in-memory shadow, keeps each flow's id and is the only
   * one to hand them out); undefined without an instance record.
   */
  flowRowIds(vnf: string): FlowRowIds | undefined {
    const first = this.firstFlowRow(vnf);
    if (first === undefined) return undefined;
    this.store.flush();
    const max = this.store.stmt(`SELECT max(id) FROM shadow_flow_rows WHERE id BETWEEN @first AND @first + ${FLOW_ROWS_PER_INSTANCE - 1}`).pluck().get({ first }) as number | null;
    return new FlowRowIds(first, max === null ? 0 : max - first);
  }

  /** Records flow row `id` (from the instance's FlowRowIds): inserted, or replaced. Queued. */
  putFlow(id: number, owner: Principal, flowMod: Buffer): void {
    this.store.enqueue(OP_FLOW_PUT).num(id).num(owner === OPERATOR ? 1 : 0).bytes(flowMod);
    this.store.queued();
  }

  /** Forgets flow row `id`. Queued. */
  removeFlow(id: number): void {
    this.store.enqueue(OP_FLOW_DELETE).num(id);
    this.store.queued();
  }

  /**
   * An instance's flows, by table, then priority (highest first), then
   * canonical match bytes; optionally one table's or one owner's. A row
   * whose bytes are not a flow-mod long enough to hold its match is left out.
   */
  flowsOf(vnf: string, filter: { tableId?: number; owner?: Principal } = {}): ShadowFlow[] {
    const first = this.firstFlowRow(vnf);
    if (first === undefined) return [];
    this.store.flush();
    const tenant = this.store.stmt('SELECT tenant FROM instances WHERE vnf = ?').pluck().get(vnf) as string;
    const rows = this.store
      .stmt(`SELECT id, operator, flow_mod FROM shadow_flow_rows WHERE id BETWEEN @first AND @first + ${FLOW_ROWS_PER_INSTANCE - 1}`)
      .raw()
      .all({ first }) as Array<[number, number, Buffer]>;
    const out: ShadowFlow[] = [];
    for (const [id, operator, fm] of rows) {
      const f = flowOfRow(vnf, id, operator === 1 ? OPERATOR : tenant, fm);
      if (f === undefined) continue;
      if (filter.tableId !== undefined && f.tableId !== filter.tableId) continue;
      if (filter.owner !== undefined && f.owner !== filter.owner) continue;
      out.push(f);
    }
    return out.sort((x, y) => x.tableId - y.tableId || y.priority - x.priority || Buffer.compare(x.match, y.match));
  }

  /** Records a group (insert or replace by id). Queued. */
  upsertGroup(g: ShadowGroup): void {
    this.store.enqueue(OP_GROUP_UPSERT).value(g.vnf).num(g.groupId).value(g.owner).bytes(g.groupMod);
    this.store.queued();
  }

  /** Forgets a group. Queued. */
  removeGroup(vnf: string, groupId: number): void {
    this.store.enqueue(OP_GROUP_REMOVE).value(vnf).num(groupId);
    this.store.queued();
  }

  /** Records a meter (insert or replace by id). Queued. */
  upsertMeter(m: ShadowMeter): void {
    this.store.enqueue(OP_METER_UPSERT).value(m.vnf).num(m.meterId).value(m.owner).bytes(m.meterMod);
    this.store.queued();
  }

  /** Forgets a meter. Queued. */
  removeMeter(vnf: string, meterId: number): void {
    this.store.enqueue(OP_METER_REMOVE).value(vnf).num(meterId);
    this.store.queued();
  }

  /** Forgets every flow, group and meter of an instance. Queued. */
  clearInstance(vnf: string): void {
    this.store.enqueue(OP_CLEAR).value(vnf).value(this.firstFlowRow(vnf) ?? null);
    this.store.queued();
  }

  /** An instance's groups, by id. */
  groupsOf(vnf: string): ShadowGroup[] {
    this.store.flush();
    const rows = this.store
      .stmt('SELECT group_id AS groupId, owner, group_mod AS groupMod FROM shadow_groups WHERE vnf = ? ORDER BY group_id')
      .all(vnf) as Omit<ShadowGroup, 'vnf'>[];
    return rows.map((r) => ({ vnf, ...r }));
  }

  /** An instance's meters, by id. */
  metersOf(vnf: string): ShadowMeter[] {
    this.store.flush();
    const rows = this.store
      .stmt('SELECT meter_id AS meterId, owner, meter_mod AS meterMod FROM shadow_meters WHERE vnf = ? ORDER BY meter_id')
      .all(vnf) as Omit<ShadowMeter, 'vnf'>[];
    return rows.map((r) => ({ vnf, ...r }));
  }

  /** How many flows, groups and meters an instance has, in total and per owner. */
  countsOf(vnf: string): InstanceCounts {
    this.store.flush();
    const out: InstanceCounts = { flows: 0, groups: 0, meters: 0, byOwner: {} };
    const add = (kind: keyof ShadowCounts, rows: Array<{ owner: string; n: number }>): void => {
      for (const { owner, n } of rows) {
        out[kind] += n;
        (out.byOwner[owner] ??= { flows: 0, groups: 0, meters: 0 })[kind] += n;
      }
    };
    const first = this.firstFlowRow(vnf);
    if (first !== undefined) {
      const rows = this.store
        .stmt(
          `SELECT CASE operator WHEN 1 THEN '${OPERATOR}' ELSE (SELECT tenant FROM instances WHERE vnf = @vnf) END AS owner, count(*) AS n
             FROM shadow_flow_rows WHERE id BETWEEN @first AND @first + ${FLOW_ROWS_PER_INSTANCE - 1} GROUP BY operator`,
        )
        .all({ first, vnf }) as Array<{ owner: string; n: number }>;
      add('flows', rows);
    }
    for (const [kind, table] of [['groups', 'shadow_groups'], ['meters', 'shadow_meters']] as const) {
      add(kind, this.store.stmt(`SELECT owner, count(*) AS n FROM ${table} WHERE vnf = ? GROUP BY owner`).all(vnf) as Array<{ owner: string; n: number }>);
    }
    return out;
  }

  /** The vNFs that have any shadow entry (for reconciliation after a restart). */
  vnfs(): string[] {
    this.store.flush();
    return this.store
      .stmt(
        `SELECT vnf FROM instances i WHERE EXISTS (SELECT 1 FROM shadow_flow_rows
             WHERE id BETWEEN i.number * ${FLOW_ROWS_PER_INSTANCE} AND i.number * ${FLOW_ROWS_PER_INSTANCE} + ${FLOW_ROWS_PER_INSTANCE - 1})
           UNION SELECT vnf FROM shadow_groups UNION SELECT vnf FROM shadow_meters ORDER BY vnf`,
      )
      .pluck()
      .all() as string[];
  }
}

/** A stored flow row as a ShadowFlow (table, priority, cookie and canonical match read from its bytes); undefined if they cannot be read. */
function flowOfRow(vnf: string, id: number, owner: Principal, fm: Buffer): ShadowFlow | undefined {
  if (fm.length < FLOW_MOD_AT.match + 4) return undefined;
  const end = FLOW_MOD_AT.match + fm.readUInt16BE(FLOW_MOD_AT.match + 2);
  if (end > fm.length) return undefined;
  let match: Buffer;
  try {
    match = canonicalOxms(fm, FLOW_MOD_AT.match + 4, end);
  } catch {
    return undefined;
  }
  return { vnf, id, tableId: fm[FLOW_MOD_AT.tableId], priority: fm.readUInt16BE(FLOW_MOD_AT.priority), match, owner, cookie: fm.readBigUInt64BE(FLOW_MOD_AT.cookie), flowMod: fm };
}

/** Named counters that only go up and survive restarts (e.g. 'datapath-id'). */
export class CounterRepository {
  constructor(private readonly store: Store) {}

  /** Increments the counter (created at 0) in its own transaction and returns the new value: 1, 2, … */
  next(name: string): number {
    requireName('counter', name);
    return this.store.write(() => this.bump(name));
  }

  /** @internal `next` within the caller's transaction. */
  bump(name: string): number {
    return this.store
      .stmt('INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value')
      .pluck()
      .get(name) as number;
  }

  /** The last value handed out, 0 if none. */
  current(name: string): number {
    return (this.store.stmt('SELECT value FROM counters WHERE name = ?').pluck().get(name) as number | undefined) ?? 0;
  }
}

/** The append-only audit log. Appends are queued (see Store); queries flush first. */
export class AuditRepository {
  constructor(private readonly store: Store) {}

  /**
   * Queues one entry. Its time is taken now unless given; `detail` is
   * serialised now. StoreInputError at once for a missing actor or action or
   * an unknown result (so a bad entry never blocks a flush).
   */
  append(e: AuditEntry): void {
    requireName('audit actor', e.actor);
    requireName('audit action', e.action);
    if (!AUDIT_RESULTS.has(e.result)) throw new StoreInputError(`audit result ${String(e.result)} is not ok, denied or error`);
    this.store
      .enqueue(OP_AUDIT)
      .value(e.time ?? this.store.now())
      .value(e.actor)
      .value(e.tenant ?? null)
      .value(e.vnf ?? null)
      .value(e.action)
      .value(e.detail === undefined ? null : toJson(e.detail))
      .value(e.result)
      .value(e.errorType ?? null)
      .value(e.errorCode ?? null);
    this.store.queued();
  }

  /** Entries matching every given criterion, by id (time of append). */
  query(q: AuditQuery = {}): AuditRecord[] {
    this.store.flush();
    const where: string[] = [];
    const args: unknown[] = [];
    const eq = (col: string, v: unknown): void => {
      if (v === undefined) return;
      where.push(`${col} = ?`);
      args.push(v);
    };
    eq('vnf', q.vnf);
    eq('tenant', q.tenant);
    eq('actor', q.actor);
    eq('action', q.action);
    eq('result', q.result);
    if (q.since !== undefined) {
      where.push('time >= ?');
      args.push(timeOf('since', q.since));
    }
    if (q.until !== undefined) {
      where.push('time < ?');
      args.push(timeOf('until', q.until));
    }
    if (q.afterId !== undefined) {
      where.push('id > ?');
      args.push(q.afterId);
    }
    const limit = q.limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 0 || limit > 100_000) throw new StoreInputError('limit must be an integer from 0 to 100000');
    const order = q.order === 'desc' ? 'DESC' : 'ASC';
    const sql = `SELECT * FROM audit${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT ?`;
    return (this.store.stmt(sql).all(...args, limit) as AuditRow[]).map(rowToAudit);
  }

  /** Number of stored entries (after flushing). */
  count(): number {
    this.store.flush();
    return this.store.stmt('SELECT count(*) FROM audit').pluck().get() as number;
  }
}
