/**
 * The OpenFlow listener NIC instances connect to (default 127.0.0.1:6653,
 * NICVISOR_OF_PORT; 0 = ephemeral): one NicSession per connection,
 * registered by datapath id once its handshake is done.
 */
import { createServer, Server, Socket } from 'node:net';
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
  session?: Omit<NicSessionOptions, 'generationId'>;
  log?: (line: string) => void;
}

export class NicListener {
  private server: Server | undefined;
  private readonly sockets = new Set<OfSocket>();
  host = DEFAULT_OF_HOST;
  port = 0;

  constructor(
    readonly registry: NicRegistry,
    private readonly opts: NicListenerOptions = {},
  ) {}

  /** Binds; resolves with the bound port. */
  async listen(): Promise<number> {
    this.host = this.opts.host ?? DEFAULT_OF_HOST;
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? DEFAULT_OF_PORT, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.opts.log?.(`OpenFlow listener: ${e.message}`));
    const a = server.address();
    this.port = typeof a === 'object' && a !== null ? a.port : (this.opts.port ?? DEFAULT_OF_PORT);
    return this.port;
  }

  /** `tcp:HOST:PORT`, what a NIC instance is told to connect to. */
  get target(): string {
    return `tcp:${this.host}:${this.port}`;
  }

  get connections(): number {
    return this.sockets.size;
  }

  private accept(socket: Socket): void {
    const io = new OfSocket(socket);
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
        log?.(`NIC instance 0x${s.datapathId!.toString(16).padStart(16, '0')} connected from ${io.remote}`);
        this.registry.add(s);
      },
      (e: Error) => log?.(`NIC connection from ${io.remote} failed: ${e.message}`),
    );
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of [...this.sockets]) s.close('controller shutting down');
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
