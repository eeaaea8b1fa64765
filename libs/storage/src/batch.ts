/**
 * The store's queued writes as a batch: a flat array (an op code, then its
 * arguments; see the OP_ constants), written in one transaction by
 * `compileBatchWriter`, either on the thread that queued it or, packed into
 * bytes (`packBatch` / `unpackBatch`), by the store's writer thread
 * (write-thread.ts).
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

/** Writes a batch in one transaction (rolled back, and rethrown, on failure). */
export function compileBatchWriter(db: Database.Database): (q: unknown[]) => void {
  const stmt = (sql: string) => db.prepare(sql);
  const flowPut = stmt('INSERT OR REPLACE INTO shadow_flow_rows (id, operator, flow_mod) VALUES (?, ?, ?)');
  // Runs of puts (a burst of flow-mods) go RUN rows per statement: the rows are applied in order, as one by one.
  const flowPutRun = stmt(`INSERT OR REPLACE INTO shadow_flow_rows (id, operator, flow_mod) VALUES ${Array<string>(RUN).fill('(?, ?, ?)').join(', ')}`);
  const flowDelete = stmt('DELETE FROM shadow_flow_rows WHERE id = ?');
  const flowDeleteRun = stmt(`DELETE FROM shadow_flow_rows WHERE id IN (${Array<string>(RUN).fill('?').join(', ')})`);
  const putArgs: unknown[] = new Array<unknown>(RUN * 3);
  const deleteArgs: unknown[] = new Array<unknown>(RUN);
  /** A run of RUN puts from q[i] written at once; false if there is no such run. */
  const putRun = (q: unknown[], i: number): boolean => {
    if (i + 4 * RUN > q.length) return false;
    for (let k = i + 4; k < i + 4 * RUN; k += 4) if (q[k] !== OP_FLOW_PUT) return false;
    for (let r = 0, k = i, a = 0; r < RUN; r++, k += 4) {
      putArgs[a++] = q[k + 1];
      putArgs[a++] = q[k + 2];
      putArgs[a++] = q[k + 3];
    }
    flowPutRun.run(putArgs);
    return true;
  };
  const deleteRun = (q: unknown[], i: number): boolean => {
    if (i + 2 * RUN > q.length) return false;
    for (let k = i + 2; k < i + 2 * RUN; k += 2) if (q[k] !== OP_FLOW_DELETE) return false;
    for (let r = 0, k = i; r < RUN; r++, k += 2) deleteArgs[r] = q[k + 1];
    flowDeleteRun.run(deleteArgs);
    return true;
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
  const run = (q: unknown[]): void => {
    let i = 0;
    const n = q.length;
    while (i < n) {
      switch (q[i]) {
        case OP_FLOW_PUT:
          if (putRun(q, i)) {
            i += 4 * RUN;
            break;
          }
          flowPut.run(q[i + 1], q[i + 2], q[i + 3]);
          i += 4;
          break;
        case OP_FLOW_DELETE:
          if (deleteRun(q, i)) {
            i += 2 * RUN;
            break;
          }
          flowDelete.run(q[i + 1]);
          i += 2;
          break;
        case OP_GROUP_UPSERT:
          groupUpsert.run(q[i + 1], q[i + 2], q[i + 3], q[i + 4]);
          i += 5;
          break;
        case OP_GROUP_REMOVE:
          groupRemove.run(q[i + 1], q[i + 2]);
          i += 3;
          break;
        case OP_METER_UPSERT:
          meterUpsert.run(q[i + 1], q[i + 2], q[i + 3], q[i + 4]);
          i += 5;
          break;
        case OP_METER_REMOVE:
          meterRemove.run(q[i + 1], q[i + 2]);
          i += 3;
          break;
        case OP_CLEAR:
          if (q[i + 2] !== null) clearFlows.run({ first: q[i + 2] });
          clearGroups.run(q[i + 1]);
          clearMeters.run(q[i + 1]);
          i += 3;
          break;
        case OP_AUDIT: {
          const vnf = q[i + 4];
          audit.run(q[i + 1], q[i + 2], q[i + 3], vnf, vnf, q[i + 5], q[i + 6], q[i + 7], q[i + 8], q[i + 9]);
          i += 10;
          break;
        }
        default:
          throw new Error(`internal: bad queued operation ${String(q[i])} at ${i}`);
      }
    }
  };
  return db.transaction(run);
}

// Packed values: a tag byte, then the value.
const T_NULL = 0;
const T_INT = 1; // int32
const T_NUM = 2; // float64
const T_STR = 3; // u32 length, UTF-8
const T_BUF = 4; // u32 length, bytes
const T_BIG = 5; // int64

/** A batch as bytes (what crosses to the writer thread: one copy, no per-value objects). */
export function packBatch(q: unknown[]): Buffer {
  let buf = Buffer.allocUnsafe(Math.max(1024, q.length * 24));
  let p = 0;
  const strings = new Map<string, Buffer>();
  const room = (n: number): void => {
    if (p + n <= buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(buf.length * 2, p + n));
    buf.copy(b, 0, 0, p);
    buf = b;
  };
  for (let i = 0; i < q.length; i++) {
    const v = q[i];
    if (v === null || v === undefined) {
      room(1);
      buf[p++] = T_NULL;
    } else if (typeof v === 'number') {
      room(9);
      if ((v | 0) === v) {
        buf[p++] = T_INT;
        p = buf.writeInt32LE(v, p);
      } else {
        buf[p++] = T_NUM;
        p = buf.writeDoubleLE(v, p);
      }
    } else if (typeof v === 'string') {
      // The same few names (vNF, owner) come again and again: encoded once per batch.
      let e = strings.get(v);
      if (e === undefined) strings.set(v, (e = Buffer.from(v, 'utf8')));
      room(5 + e.length);
      buf[p] = T_STR;
      buf.writeUInt32LE(e.length, p + 1);
      buf.set(e, p + 5);
      p += 5 + e.length;
    } else if (typeof v === 'bigint') {
      room(9);
      buf[p++] = T_BIG;
      p = buf.writeBigInt64LE(v, p);
    } else if (Buffer.isBuffer(v)) {
      room(5 + v.length);
      buf[p] = T_BUF;
      buf.writeUInt32LE(v.length, p + 1);
      buf.set(v, p + 5);
      p += 5 + v.length;
    } else {
      throw new TypeError(`internal: cannot queue a ${typeof v}`);
    }
  }
  return buf.subarray(0, p);
}

/** The batch `packBatch` packed (buffers are views into `b`). */
export function unpackBatch(b: Buffer): unknown[] {
  const q: unknown[] = [];
  let p = 0;
  while (p < b.length) {
    const t = b[p++];
    switch (t) {
      case T_NULL:
        q.push(null);
        break;
      case T_INT:
        q.push(b.readInt32LE(p));
        p += 4;
        break;
      case T_NUM:
        q.push(b.readDoubleLE(p));
        p += 8;
        break;
      case T_STR: {
        const n = b.readUInt32LE(p);
        q.push(b.toString('utf8', p + 4, p + 4 + n));
        p += 4 + n;
        break;
      }
      case T_BUF: {
        const n = b.readUInt32LE(p);
        q.push(b.subarray(p + 4, p + 4 + n));
        p += 4 + n;
        break;
      }
      case T_BIG:
        q.push(b.readBigInt64LE(p));
        p += 8;
        break;
      default:
        throw new Error(`internal: bad packed value tag ${t} at ${p - 1}`);
    }
  }
  return q;
}
