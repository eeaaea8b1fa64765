/**
 * The OpenFlow listener NIC instances connect to (default 127.0.0.1:6653,
 * NICVISOR_OF_PORT; 0 = ephemeral), and optionally a unix socket too
 * (NICVISOR_OF_UNIX): an Open vSwitch in another network namespace cannot
 * reach our loopback, but it shares the file system. One NicSession per
 * connection, registered by datapath id once its handshake is done.
 */
import { unlinkSync } from 'node:fs';
import { connect, createServer, Server, Socket } from 'node:net';
import { NicRegistry } from './nic-registry.js';
import { NicSession, NicSessionOptions } from './nic-session.js';
import { OfSocket } from './of-socket.js';

export const DEFAULT_OF_HOST = '127.0.0.1';
export const DEFAULT_OF_PORT = 6653;
export const ENV_OF_PORT = 'NICVISOR_OF_PORT';

export interface NicListenerOptions {
  host?: string;
  /** 0 = ephemeral (see `port` once listening). */
  port?: number;
  /** Also listen on this unix socket path (a stale socket file left by a dead process is replaced). */
  unixPath?: string;
  session?: Omit<NicSessionOptions, 'generationId'>;
  log?: (line: string) => void;
}

export class NicListener {
  private server: Server | undefined;
  private unixServer: Server | undefined;
  private readonly sockets = new Set<OfSocket>();
  host = DEFAULT_OF_HOST;
  port = 0;

  constructor(
    readonly registry: NicRegistry,
    private readonly opts: NicListenerOptions = {},
  ) {}

  /** Binds (TCP, and the unix socket when configured); resolves with the bound TCP port. */
  async listen(): Promise<number> {
    this.host = this.opts.host ?? DEFAULT_OF_HOST;
    const server = createServer((socket) => this.accept(socket, undefined));
    this.server = server;
    await bind(server, (s) => s.listen(this.opts.port ?? DEFAULT_OF_PORT, this.host));
    server.on('error', (e) => this.opts.log?.(`OpenFlow listener: ${e.message}`));
    const a = server.address();
    this.port = typeof a === 'object' && a !== null ? a.port : (this.opts.port ?? DEFAULT_OF_PORT);
    const path = this.opts.unixPath;
    if (path !== undefined) {
      const unix = createServer((socket) => this.accept(socket, `unix:${path}`));
      try {
        await bind(unix, (s) => s.listen(path)).catch(async (e: NodeJS.ErrnoException) => {
          if (e.code !== 'EADDRINUSE' || (await answers(path))) throw e;
          unlinkSync(path);
          await bind(unix, (s) => s.listen(path));
        });
      } catch (e) {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        this.server = undefined;
        throw e;
      }
      unix.on('error', (e) => this.opts.log?.(`OpenFlow listener ${path}: ${e.message}`));
      this.unixServer = unix;
    }
    return this.port;
  }

  /** `tcp:HOST:PORT`, what a NIC instance is told to connect to. */
  get target(): string {
    return `tcp:${this.host}:${this.port}`;
  }

  /** `unix:PATH` when listening on a unix socket too. */
  get unixTarget(): string | undefined {
    return this.unixServer === undefined ? undefined : `unix:${this.opts.unixPath!}`;
  }

  get connections(): number {
    return this.sockets.size;
  }

  private accept(socket: Socket, local: string | undefined): void {
    const io = new OfSocket(socket);
    const from = local ?? io.remote;
    this.sockets.add(io);
    const log = this.opts.log;
    const session = new NicSession(io, { ...this.opts.session, generationId: () => this.registry.nextGenerationId(), ...(log ? { log } : {}) });
    io.attach({
      onMessage: (raw) => session.receive(raw),
      onClose: (reason) => {
        this.sockets.delete(io);
        session.closed_(reason);
      },
    });
    session.start();
    session.ready.then(
      (s) => {
        log?.(`NIC instance 0x${s.datapathId!.toString(16).padStart(16, '0')} connected from ${from}`);
        this.registry.add(s);
      },
      (e: Error) => log?.(`NIC connection from ${from} failed: ${e.message}`),
    );
  }

  async close(): Promise<void> {
    const servers = [this.server, this.unixServer];
    this.server = undefined;
    this.unixServer = undefined;
    for (const s of [...this.sockets]) s.close('controller shutting down');
    // Closing a unix server also removes its socket file.
    await Promise.all(servers.map((server) => (server === undefined ? undefined : new Promise<void>((resolve) => server.close(() => resolve())))));
  }
}

/** Starts `server` listening; rejects with the bind error. */
function bind(server: Server, listen: (s: Server) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    listen(server);
  });
}

/** Whether a process accepts connections on the unix socket `path` (else its file is stale). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
