/**
 * The store's queued writes as a batch of bytes: each operation its op code
 * (see the OP_ constants), then its arguments, each a tag and a value. Made
 * by `Batch` as writes are queued (no array of values, no second pass to
 * pack them) and written in one transaction by `compileBatchWriter`, on
 * the thread that queued it or on the store's writer thread
 * (write-thread.ts), which gets the same bytes.
 */
import type Database from 'better-sqlite3';
import { FLOW_ROWS_PER_INSTANCE } from './migrations.js';

export const OP_FLOW_PUT = 1; // id, operator (1 or 0), flowMod
export const OP_FLOW_DELETE = 2; // id
export const OP_GROUP_UPSERT = 3; // vnf, groupId, owner, groupMod
export const OP_GROUP_REMOVE = 4; // vnf, groupId
export const OP_METER_UPSERT = 5; // vnf, meterId, owner, meterMod
export const OP_METER_REMOVE = 6; // vnf, meterId
export const OP_CLEAR = 7; // vnf, first flow row id of the instance (or null: no instance record)
export const OP_AUDIT = 8; // time, actor, tenant, vnf, action, detail, result, errorType, errorCode
/** Flow puts (or deletes) written per multi-row statement in a run of them: fewer calls into SQLite. */
const RUN = 32;

// Value tags.
const T_NULL = 0;
const T_INT = 1; // int32
const T_NUM = 2; // float64
const T_STR = 3; // u32 length, UTF-8
const T_BUF = 4; // u32 length, bytes
const T_BIG = 5; // int64

/** Queued operations as bytes (see the file comment). */
export class Batch {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + n));
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }

  /** Starts an operation; its arguments follow. */
  op(code: number): this {
    this.room(1);
    this.buf[this.pos++] = code;
    return this;
  }

  num(v: number): this {
    this.room(9);
    if ((v | 0) === v) {
      this.buf[this.pos] = T_INT;
      this.pos = this.buf.writeInt32LE(v, this.pos + 1);
    } else {
      this.buf[this.pos] = T_NUM;
      this.pos = this.buf.writeDoubleLE(v, this.pos + 1);
    }
    return this;
  }

  bytes(v: Uint8Array): this {
    this.room(5 + v.length);
    const b = this.buf;
    b[this.pos] = T_BUF;
    b.writeUInt32LE(v.length, this.pos + 1);
    b.set(v, this.pos + 5);
    this.pos += 5 + v.length;
    return this;
  }

  /** Any argument: null or undefined, a number, a string, a bigint or bytes. */
  value(v: unknown): this {
    if (v === null || v === undefined) {
      this.room(1);
      this.buf[this.pos++] = T_NULL;
    } else if (typeof v === 'number') {
      this.num(v);
    } else if (typeof v === 'string') {
      this.room(5 + 3 * v.length);
      const n = this.buf.write(v, this.pos + 5, 'utf8');
      this.buf[this.pos] = T_STR;
      this.buf.writeUInt32LE(n, this.pos + 1);
      this.pos += 5 + n;
    } else if (typeof v === 'bigint') {
      this.room(9);
      this.buf[this.pos] = T_BIG;
      this.pos = this.buf.writeBigInt64LE(v, this.pos + 1);
    } else if (v instanceof Uint8Array) {
      this.bytes(v);
    } else {
      throw new TypeError(`internal: cannot queue a ${typeof v}`);
    }
    return this;
  }

  /** The batch so far, without copying: valid until the next operation is queued. */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** The batch so far, as bytes of its own; this one starts empty again. */
  take(): Buffer {
    const out = Buffer.from(this.view());
    this.pos = 0;
    return out;
  }

  /** Drops what was queued. */
  clear(): void {
    this.pos = 0;
  }
}

/** Reads a batch's bytes back, operation by operation (buffers are views into them). */
class BatchReader {
  private pos = 0;

  constructor(private readonly b: Buffer) {}

  get more(): boolean {
    return this.pos < this.b.length;
  }

  op(): number {
    return this.b[this.pos++];
  }

  value(): unknown {
    const b = this.b;
    const t = b[this.pos++];
    const p = this.pos;
    switch (t) {
      case T_NULL:
        return null;
      case T_INT:
        this.pos += 4;
        return b.readInt32LE(p);
      case T_NUM:
        this.pos += 8;
        return b.readDoubleLE(p);
      case T_STR: {
        const n = b.readUInt32LE(p);
        this.pos += 4 + n;
        return b.toString('utf8', p + 4, p + 4 + n);
      }
      case T_BUF: {
        const n = b.readUInt32LE(p);
        this.pos += 4 + n;
        return b.subarray(p + 4, p + 4 + n);
      }
      case T_BIG:
        this.pos += 8;
        return b.readBigInt64LE(p);
      default:
        throw new Error(`internal: bad queued value tag ${t} at ${p - 1}`);
    }
  }
}

/** Writes a batch (its bytes, from `Batch.take`) in one transaction (rolled back, and rethrown, on failure). */
export function compileBatchWriter(db: Database.Database): (batch: Buffer) => void {
  const stmt = (sql: string) => db.prepare(sql);
  const flowPut = stmt('INSERT OR REPLACE INTO shadow_flow_rows (id, operator, flow_mod) VALUES (?, ?, ?)');
  // Runs of puts (a burst of flow-mods) go RUN rows per statement: the rows are applied in order, as one by one.
  const flowPutRun = stmt(`INSERT OR REPLACE INTO shadow_flow_rows (id, operator, flow_mod) VALUES ${Array<string>(RUN).fill('(?, ?, ?)').join(', ')}`);
  const flowDelete = stmt('DELETE FROM shadow_flow_rows WHERE id = ?');
  const flowDeleteRun = stmt(`DELETE FROM shadow_flow_rows WHERE id IN (${Array<string>(RUN).fill('?').join(', ')})`);
  // Puts (or deletes) read but not yet written: a run is written when it is full, and before any other operation.
  const putArgs: unknown[] = new Array<unknown>(RUN * 3);
  let puts = 0;
  const deleteArgs: unknown[] = new Array<unknown>(RUN);
  let deletes = 0;
  const writePuts = (): void => {
    if (puts === RUN) flowPutRun.run(putArgs);
    else for (let k = 0; k < puts * 3; k += 3) flowPut.run(putArgs[k], putArgs[k + 1], putArgs[k + 2]);
    puts = 0;
  };
  const writeDeletes = (): void => {
    if (deletes === RUN) flowDeleteRun.run(deleteArgs);
    else for (let k = 0; k < deletes; k++) flowDelete.run(deleteArgs[k]);
    deletes = 0;
  };
  const groupUpsert = stmt('INSERT OR REPLACE INTO shadow_groups (vnf, group_id, owner, group_mod) VALUES (?, ?, ?, ?)');
  const groupRemove = stmt('DELETE FROM shadow_groups WHERE vnf = ? AND group_id = ?');
  const meterUpsert = stmt('INSERT OR REPLACE INTO shadow_meters (vnf, meter_id, owner, meter_mod) VALUES (?, ?, ?, ?)');
  const meterRemove = stmt('DELETE FROM shadow_meters WHERE vnf = ? AND meter_id = ?');
  const clearFlows = stmt(`DELETE FROM shadow_flow_rows WHERE id BETWEEN @first AND @first + ${FLOW_ROWS_PER_INSTANCE - 1}`);
  const clearGroups = stmt('DELETE FROM shadow_groups WHERE vnf = ?');
  const clearMeters = stmt('DELETE FROM shadow_meters WHERE vnf = ?');
  const audit = stmt(
    `INSERT INTO audit (time, actor, tenant, vnf, action, detail, result, error_type, error_code)
       VALUES (?, ?, COALESCE(?, (SELECT tenant FROM instances WHERE vnf = ?)), ?, ?, ?, ?, ?, ?)`,
  );
  const run = (batch: Buffer): void => {
    puts = 0;
    deletes = 0;
    const r = new BatchReader(batch);
    while (r.more) {
      const op = r.op();
      if (op !== OP_FLOW_PUT && puts > 0) writePuts();
      if (op !== OP_FLOW_DELETE && deletes > 0) writeDeletes();
      switch (op) {
        case OP_FLOW_PUT: {
          const k = puts * 3;
          putArgs[k] = r.value();
          putArgs[k + 1] = r.value();
          putArgs[k + 2] = r.value();
          if (++puts === RUN) writePuts();
          break;
        }
        case OP_FLOW_DELETE:
          deleteArgs[deletes] = r.value();
          if (++deletes === RUN) writeDeletes();
          break;
        case OP_GROUP_UPSERT:
          groupUpsert.run(r.value(), r.value(), r.value(), r.value());
          break;
        case OP_GROUP_REMOVE:
          groupRemove.run(r.value(), r.value());
          break;
        case OP_METER_UPSERT:
          meterUpsert.run(r.value(), r.value(), r.value(), r.value());
          break;
        case OP_METER_REMOVE:
          meterRemove.run(r.value(), r.value());
          break;
        case OP_CLEAR: {
          const vnf = r.value();
          const first = r.value();
          if (first !== null) clearFlows.run({ first });
          clearGroups.run(vnf);
          clearMeters.run(vnf);
          break;
        }
        case OP_AUDIT: {
          const time = r.value();
          const actor = r.value();
          const tenant = r.value();
          const vnf = r.value();
          audit.run(time, actor, tenant, vnf, vnf, r.value(), r.value(), r.value(), r.value(), r.value());
          break;
        }
        default:
          throw new Error(`internal: bad queued operation ${op}`);
      }
    }
    if (puts > 0) writePuts();
    if (deletes > 0) writeDeletes();
  };
  return db.transaction(run);
}
