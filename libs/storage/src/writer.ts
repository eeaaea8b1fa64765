/**
 * The store's side of its writer thread (write-thread.ts): posts packed
 * batches in order, numbered, and knows how far the thread has committed —
 * asynchronously from its messages, or by blocking on the shared status.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FromWriter, ToWriter, WriteThreadData } from './write-thread.js';

const STATUS_BYTES = 16 + 1024;
/** How long a blocking flush waits for the thread before it fails. */
const WAIT_MS = 30_000;

/** The thread's module: the TypeScript source runs through the repository's loader (bin/register.js), as the process does. */
function threadModule(): { url: URL; execArgv: string[] } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { url: new URL('./write-thread.js', here), execArgv: [] };
  return { url: new URL('./write-thread.ts', here), execArgv: ['--import', fileURLToPath(new URL('../../../bin/register.js', here))] };
}

export class WriterThread {
  private readonly worker: Worker;
  private readonly status: Int32Array;
  private readonly errText: Uint8Array;
  private sent = 0;
  /** Highest batch the thread reported committed (by message). */
  private done = 0;
  private waiters: Array<{ seq: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private refd = false;

  constructor(
    path: string,
    private readonly onError: (err: unknown) => void,
    private readonly onFlush: ((operations: number, seconds: number) => void) | undefined,
  ) {
    const sab = new SharedArrayBuffer(STATUS_BYTES);
    this.status = new Int32Array(sab, 0, 4);
    this.errText = new Uint8Array(sab, 16);
    const { url, execArgv } = threadModule();
    this.worker = new Worker(url, { workerData: { path, status: sab } satisfies WriteThreadData, execArgv });
    this.worker.unref();
    this.worker.on('message', (m: FromWriter) => this.message(m));
    this.worker.on('error', (e) => this.fail(e));
  }

  post(batch: Buffer, ops: number): void {
    const seq = ++this.sent;
    // A copy the thread owns: `batch` may be a view into a larger buffer.
    const own = new Uint8Array(batch.length);
    own.set(batch);
    this.worker.postMessage({ seq, batch: own, ops } satisfies ToWriter, [own.buffer]);
    if (!this.refd) {
      this.refd = true;
      this.worker.ref();
    }
  }

  /** Every batch posted so far is committed (none in flight, none failed). */
  get idle(): boolean {
    return Atomics.load(this.status, 1) >= this.sent;
  }

  /** Resolves once every batch posted so far is committed. */
  committed(): Promise<void> {
    const seq = this.sent;
    if (this.done >= seq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** Blocks until every batch posted so far is committed; throws the thread's error if one failed. */
  waitCommitted(): void {
    const seq = this.sent;
    const until = Date.now() + WAIT_MS;
    while (Atomics.load(this.status, 0) < seq) {
      const left = until - Date.now();
      if (left <= 0) throw new Error(`the store's writer thread did not answer within ${WAIT_MS} ms`);
      Atomics.wait(this.status, 0, Atomics.load(this.status, 0), left);
    }
    if (Atomics.load(this.status, 1) < seq) {
      throw new Error(Buffer.from(this.errText.subarray(0, Atomics.load(this.status, 2))).toString() || 'the store write failed');
    }
  }

  discard(): void {
    this.worker.postMessage({ discard: true } satisfies ToWriter);
  }

  /** Closes the thread's connection, waiting for it (so the store's own connection closes last and SQLite cleans up after both). */
  close(): void {
    this.worker.postMessage({ close: true } satisfies ToWriter);
    Atomics.wait(this.status, 3, 0, WAIT_MS);
    this.worker.unref();
    this.fail(new Error('the store is closed'));
  }

  private message(m: FromWriter): void {
    if ('failed' in m) {
      this.fail(new Error(m.error));
      return;
    }
    this.done = m.seq;
    this.onFlush?.(m.ops, m.seconds);
    if (this.done >= this.sent && this.refd) {
      this.refd = false;
      this.worker.unref();
    }
    if (this.waiters.length === 0) return;
    const still = [];
    for (const w of this.waiters) {
      if (w.seq <= m.seq) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Every waiter fails (the batches stay with the thread, retried with the next). */
  private fail(e: Error): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(e);
    if (ws.length === 0 && !/closed/.test(e.message)) this.onError(e);
  }
}
