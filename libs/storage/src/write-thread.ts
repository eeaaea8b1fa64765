/**
 * The store's writer thread (StoreOptions.writerThread): its own connection
 * to the database file, writing the batches the store posts, in order, one
 * transaction each. `status` (shared with the store) says how far it got:
 * [0] the last batch handled, [1] the last batch committed, [2] the length
 * of the last error's text, which follows from byte 16, [3] 1 once its
 * connection is closed. A failed batch is
 * kept, with every later one, and tried again when the next message comes,
 * so nothing is lost or reordered while the cause lasts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { compileBatchWriter } from './batch.js';

export interface WriteThreadData {
  path: string;
  status: SharedArrayBuffer;
}

export type ToWriter = { seq: number; batch: Uint8Array; ops: number } | { discard: true } | { close: true };
export type FromWriter = { seq: number; ops: number; seconds: number } | { failed: number; error: string };

const { path, status } = workerData as WriteThreadData;
const st = new Int32Array(status, 0, 4);
const errText = new Uint8Array(status, 16);
const db = new Database(path);
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
// As the store's own connection: the shadow's B-tree pages stay in memory while it grows.
db.pragma('cache_size = -65536');
const write = compileBatchWriter(db);
const backlog: Array<{ seq: number; batch: Buffer; ops: number }> = [];

function drain(): void {
  while (backlog.length > 0) {
    const b = backlog[0];
    const t0 = performance.now();
    try {
      write(b.batch);
    } catch (e) {
      const text = Buffer.from(String((e as Error).message ?? e)).subarray(0, errText.length);
      errText.set(text);
      Atomics.store(st, 2, text.length);
      Atomics.store(st, 0, backlog[backlog.length - 1].seq);
      Atomics.notify(st, 0);
      parentPort!.postMessage({ failed: b.seq, error: (e as Error).message } satisfies FromWriter);
      return;
    }
    backlog.shift();
    Atomics.store(st, 1, b.seq);
    if (st[0] < b.seq) Atomics.store(st, 0, b.seq);
    Atomics.notify(st, 0);
    parentPort!.postMessage({ seq: b.seq, ops: b.ops, seconds: (performance.now() - t0) / 1000 } satisfies FromWriter);
  }
}

parentPort!.on('message', (m: ToWriter) => {
  if ('close' in m) {
    db.close();
    Atomics.store(st, 3, 1);
    Atomics.notify(st, 3);
    parentPort!.close();
    return;
  }
  if ('discard' in m) {
    const last = backlog.pop();
    backlog.length = 0;
    if (last !== undefined) {
      Atomics.store(st, 1, last.seq);
      Atomics.store(st, 0, last.seq);
      Atomics.notify(st, 0);
    }
    return;
  }
  backlog.push({ seq: m.seq, batch: Buffer.from(m.batch.buffer, m.batch.byteOffset, m.batch.byteLength), ops: m.ops });
  drain();
});
