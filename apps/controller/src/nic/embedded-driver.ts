/**
 * The embedded NIC: an in-process SmartNic (16 ports by default) whose
 * instances connect to the controller's OpenFlow listener over loopback
 * TCP, exactly as a standalone emulator or Open vSwitch would.
 */
import { ActiveChannel, connect } from '@nicvisor/softswitch/channel.js';
import { NicError, SmartNic } from '@nicvisor/softswitch/nic.js';
import { CreateInstanceRequest, DEFAULT_EMBEDDED_PORTS, DriverInstance, NicDriver, NicDriverError } from './nic-driver.js';

export interface EmbeddedDriverOptions {
  /** NIC ports (default 16). */
  ports?: number;
  /** The controller's OpenFlow listener, `tcp:HOST:PORT` (read when an instance is created). */
  controllerTarget: () => string;
  /** Run flow timeouts this often (ms; default 1000; 0 = never). */
  tickIntervalMs?: number;
}

export class EmbeddedNicDriver implements NicDriver {
  readonly name = 'embedded';
  readonly nic: SmartNic;
  private readonly channels = new Map<bigint, ActiveChannel>();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: EmbeddedDriverOptions) {
    this.nic = new SmartNic({ ports: opts.ports ?? DEFAULT_EMBEDDED_PORTS });
    const every = opts.tickIntervalMs ?? 1000;
    if (every > 0) {
      this.timer = setInterval(() => this.nic.tick(), every);
      this.timer.unref();
    }
  }

  async createInstance(req: CreateInstanceRequest): Promise<void> {
    let instance;
    try {
      instance = this.nic.createInstance({ datapathId: req.datapathId, ports: req.ports, nTables: req.nTables });
    } catch (e) {
      if (e instanceof NicError) throw new NicDriverError(e.code, e.message);
      throw e;
    }
    this.channels.set(req.datapathId, connect(instance, this.opts.controllerTarget(), { minBackoffMs: 50, maxBackoffMs: 2000 }));
  }

  async destroyInstance(datapathId: bigint): Promise<void> {
    if (!this.nic.hasInstance(datapathId)) throw new NicDriverError('NO_SUCH_INSTANCE', `no instance 0x${datapathId.toString(16)}`);
    const ch = this.channels.get(datapathId);
    this.channels.delete(datapathId);
    this.nic.destroyInstance(datapathId);
    await ch?.stop();
  }

  async listInstances(): Promise<DriverInstance[]> {
    return this.nic.listInstances();
  }

  async attachPort(datapathId: bigint, nicPort: number): Promise<void> {
    try {
      this.nic.attachPort(datapathId, nicPort);
    } catch (e) {
      if (e instanceof NicError) throw new NicDriverError(e.code, e.message);
      throw e;
    }
  }

  async detachPort(nicPort: number): Promise<void> {
    try {
      this.nic.detachPort(nicPort);
    } catch (e) {
      if (e instanceof NicError) throw new NicDriverError(e.code, e.message);
      throw e;
    }
  }

  async inject(nicPort: number, frame: Buffer): Promise<boolean> {
    try {
      return this.nic.inject(nicPort, frame);
    } catch (e) {
      if (e instanceof NicError) throw new NicDriverError(e.code, e.message);
      throw e;
    }
  }

  /** Drops an instance's OpenFlow connection (it reconnects with backoff): for tests of resync. */
  async reconnect(datapathId: bigint): Promise<void> {
    const ch = this.channels.get(datapathId);
    if (ch === undefined) return;
    await ch.stop();
    this.channels.set(datapathId, connect(this.nic.getInstance(datapathId), this.opts.controllerTarget(), { minBackoffMs: 50, maxBackoffMs: 2000 }));
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    const chans = [...this.channels.values()];
    this.channels.clear();
    await Promise.all(chans.map((c) => c.stop()));
    this.nic.shutdown();
  }
}
