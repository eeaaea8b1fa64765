/**
 * One OpenFlow TCP connection's I/O: framing in, batched writes out.
 *
 * Plain class on the hot path. Writes made during one turn of the event
 * loop are corked and leave in one syscall (`process.nextTick` uncorks), so
 * relaying a burst of flow-mods costs one write, not one per message. A peer
 * whose unsent output grows past `maxWriteBuffer` loses its connection; bytes
 * that cannot be framed (a length under 8) close this connection only.
 */
import type { Socket } from 'node:net';
import { Framer } from '@nicvisor/openflow';

export interface OfSocketHandlers {
  /** One whole raw OpenFlow message (a view into the chunk: copy to keep it). */
  onMessage(raw: Buffer): void;
  /** Called once, however the connection ended. */
  onClose(reason: string): void;
}

const DEFAULT_MAX_WRITE_BUFFER = 64 * 1024 * 1024;

export class OfSocket {
  /** Date.now() of the last bytes received (liveness). */
  lastRx = Date.now();
  private readonly framer = new Framer();
  private closed = false;
  private corked = false;
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
    socket.on('end', () => this.close('peer closed the connection'));
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

  send(raw: Buffer): void {
    if (this.closed) return;
    const s = this.socket;
    if (!this.corked) {
      this.corked = true;
      s.cork();
      process.nextTick(() => {
        this.corked = false;
        s.uncork();
      });
    }
    s.write(raw);
    if (s.writableLength > this.maxWriteBuffer) this.close(`peer is not reading (${s.writableLength} bytes unsent)`);
  }

  /** Sends what is queued, then closes. */
  end(reason: string): void {
    if (this.closed) return;
    if (this.corked) {
      this.corked = false;
      this.socket.uncork();
    }
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

  private data(chunk: Buffer): void {
    if (this.closed) return;
    this.lastRx = Date.now();
    const h = this.handlers;
    if (h === undefined) return;
    let msgs: Buffer[];
    try {
      msgs = this.framer.push(chunk);
    } catch (e) {
      this.close(`unframeable input: ${(e as Error).message}`);
      return;
    }
    for (let i = 0; i < msgs.length; i++) {
      if (this.closed) return;
      h.onMessage(msgs[i]);
    }
  }
}
