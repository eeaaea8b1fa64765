/**
 * The OpenFlow channel's I/O for one emulated instance, over node:net:
 * TCP in both directions, framed by the codec's Framer. The instance's agent
 * does the protocol (HELLO, negotiation, replies); this file only moves
 * whole messages between a socket and an agent session.
 *
 * - `listen` (passive, like ovs-vswitchd's `ptcp:`): every accepted TCP
 *   connection gets a session of its own.
 * - `connect` (active, like `tcp:HOST:PORT`): one connection at a time,
 *   reconnected with exponential backoff until `stop()`.
 *
 * A peer that dies, stalls beyond the write-buffer limit, or sends bytes
 * that cannot be framed loses its own connection; nothing else is touched.
 */
import { createServer, Server, Socket, connect as netConnect } from 'node:net';
import { Framer, OFP_TCP_PORT } from '@nicvisor/openflow';

/** One OpenFlow connection's protocol state, as the instance's agent provides it. */
export interface ChannelSession {
  receive(raw: Buffer): void;
  close(): void;
}

/** What a channel needs of an instance (SwitchInstance has it). */
export interface SessionHost {
  /** `onClose`: the session ends the connection itself (e.g. no common version). */
  openSession(send: (raw: Buffer) => void, onClose?: () => void): ChannelSession;
}

export interface ChannelOptions {
  /**
   * A connection whose unsent output exceeds this many bytes is closed (a
   * peer that stopped reading must not make the emulator buffer without
   * bound). Default 64 MiB.
   */
  maxWriteBuffer?: number;
  /** Close a connection that has sent nothing for this long (ms). Default: never (TCP keepalive only). */
  idleTimeoutMs?: number;
  /** Told about connections coming and going, and why they ended. */
  onEvent?: (e: ChannelEvent) => void;
}

export type ChannelEvent =
  | { kind: 'connected'; remote: string }
  | { kind: 'disconnected'; remote: string; reason: string }
  | { kind: 'retry'; target: string; delayMs: number; reason: string };

const DEFAULT_MAX_WRITE_BUFFER = 64 * 1024 * 1024;

/**
 * Attaches one socket to a fresh session; resolves nothing, cleans up on
 * every way the socket can end. Returns a function that closes it.
 */
function attach(host: SessionHost, socket: Socket, opts: ChannelOptions, onEnd: (reason: string) => void): () => void {
  const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
  const maxWrite = opts.maxWriteBuffer ?? DEFAULT_MAX_WRITE_BUFFER;
  const framer = new Framer();
  let ended = false;
  let session: ChannelSession | undefined;

  const end = (reason: string) => {
    if (ended) return;
    ended = true;
    try {
      session?.close();
    } catch {
      // a failing close must not keep the socket open
    }
    socket.destroy();
    opts.onEvent?.({ kind: 'disconnected', remote, reason });
    onEnd(reason);
  };

  socket.setNoDelay(true);
  socket.setKeepAlive(true, 5000);
  if (opts.idleTimeoutMs !== undefined) {
    socket.setTimeout(opts.idleTimeoutMs, () => end(`no bytes for ${opts.idleTimeoutMs} ms`));
  }
  socket.on('data', (chunk: Buffer) => {
    if (ended || session === undefined) return;
    try {
      for (const raw of framer.push(chunk)) {
        session.receive(raw);
        if (ended) return;
      }
    } catch (e) {
      end(`unframeable input: ${(e as Error).message}`);
    }
  });
  socket.on('end', () => end('peer closed the connection'));
  socket.on('close', () => end('connection closed'));
  socket.on('error', (e) => end(`socket error: ${e.message}`));

  opts.onEvent?.({ kind: 'connected', remote });
  try {
    session = host.openSession((raw) => {
      if (ended || socket.destroyed) return;
      socket.write(raw);
      if (socket.writableLength > maxWrite) end(`peer is not reading (${socket.writableLength} bytes unsent)`);
    }, () => {
      // Let what the session sent last (an ERROR, say) reach the peer first.
      if (!ended) socket.end(() => end('closed by the switch'));
    });
  } catch (e) {
    end(`session refused: ${(e as Error).message}`);
  }
  return () => end('closed locally');
}

export interface ListenOptions extends ChannelOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks an ephemeral port (see `port` on the result). Default 6653. */
  port?: number;
}

export interface ChannelListener {
  readonly host: string;
  /** The bound port (the ephemeral one when 0 was asked for). */
  readonly port: number;
  /** Open connections. */
  readonly connections: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Passive mode: listens, and gives every accepted connection a session of its own. */
export async function listen(host: SessionHost, opts: ListenOptions = {}): Promise<ChannelListener> {
  const bindHost = opts.host ?? '127.0.0.1';
  const closers = new Set<() => void>();
  const server: Server = createServer((socket) => {
    const holder: { closer?: () => void } = {};
    holder.closer = attach(host, socket, opts, () => {
      if (holder.closer) closers.delete(holder.closer);
    });
    if (!socket.destroyed) closers.add(holder.closer);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? OFP_TCP_PORT, bindHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // An error after binding (e.g. EMFILE on accept) must not crash the process.
  server.on('error', () => undefined);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (opts.port ?? OFP_TCP_PORT);
  let closing: Promise<void> | undefined;
  return {
    host: bindHost,
    port,
    get connections() {
      return closers.size;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of [...closers]) c();
      });
      return closing;
    },
  };
}

export interface Target {
  host: string;
  port: number;
}

/**
 * Parses an Open vSwitch style target: `tcp:HOST[:PORT]` (port 6653 when
 * omitted; IPv6 hosts in brackets, `tcp:[::1]:6653`).
 */
export function parseTarget(spec: string): Target {
  const m = /^tcp:(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(spec.trim());
  if (m === null) throw new Error(`bad OpenFlow target "${spec}": expected tcp:HOST[:PORT]`);
  const port = m[3] === undefined ? OFP_TCP_PORT : Number(m[3]);
  if (!(port > 0 && port < 65536)) throw new Error(`bad port in OpenFlow target "${spec}"`);
  return { host: (m[1] ?? m[2])!, port };
}

export interface ConnectOptions extends ChannelOptions {
  /** First retry delay (ms). Default 100. */
  minBackoffMs?: number;
  /** Largest retry delay (ms). Default 8000. */
  maxBackoffMs?: number;
  /** Connect attempt timeout (ms). Default 5000. */
  connectTimeoutMs?: number;
}

export interface ActiveChannel {
  readonly target: string;
  /** A session is up. */
  readonly connected: boolean;
  /** Connections made so far (1 after the first success). */
  readonly connects: number;
  /** Resolves once connected (at once if connected now). */
  whenConnected(): Promise<void>;
  /** Closes the connection and stops reconnecting. */
  stop(): Promise<void>;
}

/**
 * Active mode: connects to a controller and keeps reconnecting, the delay
 * doubling from `minBackoffMs` to `maxBackoffMs` and reset by a connection
 * that was established.
 */
export function connect(host: SessionHost, target: string, opts: ConnectOptions = {}): ActiveChannel {
  const { host: peerHost, port } = parseTarget(target);
  const minBackoff = opts.minBackoffMs ?? 100;
  const maxBackoff = opts.maxBackoffMs ?? 8000;
  let backoff = minBackoff;
  let stopped = false;
  let connected = false;
  let connects = 0;
  let timer: NodeJS.Timeout | undefined;
  let socket: Socket | undefined;
  let closer: (() => void) | undefined;
  let waiters: Array<() => void> = [];

  const retry = (reason: string) => {
    socket = undefined;
    closer = undefined;
    connected = false;
    if (stopped) return;
    const delayMs = backoff;
    backoff = Math.min(maxBackoff, backoff * 2);
    opts.onEvent?.({ kind: 'retry', target, delayMs, reason });
    timer = setTimeout(attempt, delayMs);
  };

  const attempt = () => {
    timer = undefined;
    if (stopped) return;
    const s = netConnect({ host: peerHost, port });
    socket = s;
    s.setTimeout(opts.connectTimeoutMs ?? 5000, () => s.destroy(new Error('connect timed out')));
    const onFail = (e: Error) => retry(`connect failed: ${e.message}`);
    s.once('error', onFail);
    s.once('connect', () => {
      s.off('error', onFail);
      s.setTimeout(0);
      if (stopped) {
        s.destroy();
        return;
      }
      connected = true;
      connects++;
      backoff = minBackoff;
      closer = attach(host, s, opts, (reason) => retry(reason));
      const w = waiters;
      waiters = [];
      for (const resolve of w) resolve();
    });
  };

  attempt();
  return {
    target,
    get connected() {
      return connected;
    },
    get connects() {
      return connects;
    },
    whenConnected() {
      return connected ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve));
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      const s = socket;
      if (closer !== undefined) closer();
      else s?.destroy();
      if (s !== undefined && !s.closed) await new Promise<void>((resolve) => s.once('close', () => resolve()));
    },
  };
}
