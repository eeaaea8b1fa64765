/**
 * One OpenFlow TCP connection's I/O: framing in, batched writes out.
 *
 * Plain class on the hot path. Messages sent during one turn of the event
 * loop are copied into one buffer and leave in one `socket.write` (on
 * `process.nextTick`), so relaying a burst of flow-mods costs one write, not
 * one per message; `send` copies, so the caller may reuse its buffer. A peer
 * whose unsent output grows past `maxWriteBuffer` loses its connection; bytes
 * that cannot be framed (a length under 8, or a stream that ends inside a
 * message) are answered with OFPBRC_BAD_LEN and end this connection only.
 */
import type { Socket } from 'node:net';
import { encodeMessage, Framer, framingError } from '@nicvisor/openflow';

export interface OfSocketHandlers {
  /** One whole raw OpenFlow message (a view into the chunk: copy to keep it). */
  onMessage(raw: Buffer): void;
  /** Called once, however the connection ended. */
  onClose(reason: string): void;
}

const DEFAULT_MAX_WRITE_BUFFER = 64 * 1024 * 1024;
/** The output buffer: messages are copied in until it is full or the tick ends. */
const SLAB = 64 * 1024;
/** Up to this much output is copied out of the slab rather than handing the slab over. */
const SMALL_WRITE = 4 * 1024;

export class OfSocket {
  /** Date.now() of the last bytes received (liveness). */
  lastRx = Date.now();
  private readonly framer = new Framer();
  private closed = false;
  /** Input stopped: unframeable bytes were answered and the connection is ending. */
  private inputDone = false;
  /** Output of this tick, not yet written: `out[0, outLen)`. */
  private out: Buffer | undefined;
  private outLen = 0;
  private flushScheduled = false;
  private readonly flushOut = (): void => {
    this.flushScheduled = false;
    this.writeOut();
  };
  private handlers: OfSocketHandlers | undefined;
  readonly remote: string;

  constructor(
    readonly socket: Socket,
    private readonly maxWriteBuffer = DEFAULT_MAX_WRITE_BUFFER,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 5000);
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('end', () => (this.framer.buffered > 0 ? this.unframeable('the stream ended inside a message') : this.close('peer closed the connection')));
    socket.on('close', () => this.close('connection closed'));
    socket.on('error', (e) => this.close(`socket error: ${e.message}`));
  }

  /** Starts delivering messages; call it in the same tick as the constructor (earlier bytes would be dropped). */
  attach(handlers: OfSocketHandlers): void {
    this.handlers = handlers;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues a copy of `raw`; what is queued in one tick leaves in one write. */
  send(raw: Buffer): void {
    if (this.closed) return;
    const n = raw.length;
    let out = this.out;
    if (out !== undefined && this.outLen + n > out.length) {
      this.writeOut();
      if (this.closed) return;
      out = undefined;
    }
    if (out === undefined) {
      if (n > SLAB) {
        this.write(Buffer.from(raw));
        return;
      }
      out = this.out = Buffer.allocUnsafe(SLAB);
    }
    out.set(raw, this.outLen);
    this.outLen += n;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flushOut);
    }
  }

  private writeOut(): void {
    const out = this.out;
    if (out === undefined || this.outLen === 0) return;
    const n = this.outLen;
    this.outLen = 0;
    if (n <= SMALL_WRITE) {
      // A few messages (a reply, a barrier): a copy leaves, the slab stays for the next tick.
      this.write(Buffer.from(out.subarray(0, n)));
      return;
    }
    // The slab itself goes to the socket (which may hold it until written): the next message starts a new one.
    this.out = undefined;
    this.write(out.subarray(0, n));
  }

  private write(b: Buffer): void {
    if (this.closed) return;
    const s = this.socket;
    s.write(b);
    if (s.writableLength > this.maxWriteBuffer) this.close(`peer is not reading (${s.writableLength} bytes unsent)`);
  }

  /** Sends what is queued, then closes. */
  end(reason: string): void {
    if (this.closed) return;
    this.writeOut();
    if (this.closed) return;
    this.socket.end(() => this.close(reason));
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    const h = this.handlers;
    if (h !== undefined) {
      try {
        h.onClose(reason);
      } catch {
        // the owner's failure must not keep the socket open
      }
    }
  }

  /** What cannot be framed: OFPBRC_BAD_LEN with its bytes, then the connection ends (no later byte can be framed). */
  private unframeable(reason: string): void {
    this.inputDone = true;
    this.send(encodeMessage(framingError(this.framer.unframed())));
    this.end(`unframeable input: ${reason}`);
  }

  private data(chunk: Buffer): void {
    if (this.closed || this.inputDone) return;
    this.lastRx = Date.now();
    const h = this.handlers;
    if (h === undefined) return;
    let msgs: Buffer[];
    try {
      msgs = this.framer.push(chunk);
    } catch (e) {
      this.unframeable((e as Error).message);
      return;
    }
    for (let i = 0; i < msgs.length; i++) {
      if (this.closed) return;
      h.onMessage(msgs[i]);
    }
  }
}
