/**
 * The emulated smart-NIC: N physical ports and any number of switch
 * instances (one per virtual network function), each owning some of the
 * ports under its own OpenFlow port numbers.
 *
 * A frame injected on a NIC port goes to the instance that owns the port (or
 * is counted as dropped); a frame an instance sends out of one of its ports
 * leaves by the NIC port mapped to it and is published on that port's
 * capture stream. Instances share nothing but the NIC: creating, destroying
 * or re-porting one never touches another's tables, sessions or counters.
 */
import { Observable, Subject } from 'rxjs';
import { Clock, SystemClock } from './clock.js';
import { PortConfig, SwitchInstance } from './instance.js';

export interface NicPortSpec {
  /** NIC port number, 1..N. */
  nicPort: number;
  name?: string;
  hwAddr?: string;
  /** kbps, as in ofp_port. */
  currSpeed?: number;
  maxSpeed?: number;
}

export interface SmartNicOptions {
  /** Number of physical ports (numbered 1..N), or each port's description. */
  ports: number | NicPortSpec[];
  /** Shared by every instance (a ManualClock in tests). */
  clock?: Clock;
  /** Makes an instance; defaults to `new SwitchInstance(opts)`. */
  factory?: (opts: ConstructorParameters<typeof SwitchInstance>[0]) => SwitchInstance;
}

/** A NIC port given to an instance: `nicPort` appears there as OpenFlow port `portNo` (default: the same number). */
export interface PortBinding {
  nicPort: number;
  portNo?: number;
}

export interface CreateInstanceSpec {
  datapathId: bigint;
  /** NIC ports to attach, as bindings or bare NIC port numbers (same number inside). */
  ports?: Array<PortBinding | number>;
  nTables?: number;
  maxEntriesPerTable?: number;
}

export interface InstanceInfo {
  datapathId: bigint;
  nTables: number;
  /** Attached ports, by NIC port, ascending. */
  ports: Array<{ nicPort: number; portNo: number }>;
}

export interface NicPortInfo {
  nicPort: number;
  name: string;
  hwAddr: string;
  /** The owning instance's datapath id, if any. */
  owner: bigint | undefined;
  portNo: number | undefined;
  linkDown: boolean;
  rxFrames: number;
  txFrames: number;
  /** Frames injected while the port had no owner. */
  droppedFrames: number;
}

export type NicErrorCode = 'EXISTS' | 'NO_SUCH_INSTANCE' | 'NO_SUCH_PORT' | 'PORT_IN_USE' | 'PORT_NOT_ATTACHED' | 'BAD_ARGUMENT';

/** A refused management request; `code` says why. */
export class NicError extends Error {
  constructor(
    readonly code: NicErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NicError';
  }
}

interface NicPort {
  readonly nicPort: number;
  readonly name: string;
  readonly hwAddr: string;
  readonly currSpeed: number;
  readonly maxSpeed: number;
  owner: Hosted | undefined;
  portNo: number;
  linkDown: boolean;
  rxFrames: number;
  txFrames: number;
  droppedFrames: number;
  readonly tx: Subject<Buffer>;
}

interface Hosted {
  readonly datapathId: bigint;
  readonly nTables: number;
  readonly instance: SwitchInstance;
  /** instance port number -> NIC port */
  readonly byPortNo: Map<number, NicPort>;
  readonly unsubscribe: () => void;
}

export interface TransmittedFrame {
  nicPort: number;
  frame: Buffer;
}

const DEFAULT_N_TABLES = 8;

function dpidText(d: bigint): string {
  return `0x${d.toString(16).padStart(16, '0')}`;
}

export class SmartNic {
  private readonly ports = new Map<number, NicPort>();
  private readonly instances = new Map<bigint, Hosted>();
  private readonly allTx = new Subject<TransmittedFrame>();
  private readonly clock: Clock;
  private readonly factory: NonNullable<SmartNicOptions['factory']>;

  constructor(opts: SmartNicOptions) {
    this.clock = opts.clock ?? new SystemClock();
    this.factory = opts.factory ?? ((o) => new SwitchInstance(o));
    const specs: NicPortSpec[] =
      typeof opts.ports === 'number' ? Array.from({ length: opts.ports }, (_, i) => ({ nicPort: i + 1 })) : opts.ports;
    for (const s of specs) {
      if (!Number.isInteger(s.nicPort) || s.nicPort < 1 || s.nicPort > 0xffffff00) throw new NicError('BAD_ARGUMENT', `bad NIC port number ${s.nicPort}`);
      if (this.ports.has(s.nicPort)) throw new NicError('BAD_ARGUMENT', `NIC port ${s.nicPort} given twice`);
      this.ports.set(s.nicPort, {
        nicPort: s.nicPort,
        name: s.name ?? `nic${s.nicPort}`,
        // locally administered, unique per NIC port
        hwAddr: s.hwAddr ?? `02:00:00:00:${((s.nicPort >> 8) & 0xff).toString(16).padStart(2, '0')}:${(s.nicPort & 0xff).toString(16).padStart(2, '0')}`,
        currSpeed: s.currSpeed ?? 10_000_000,
        maxSpeed: s.maxSpeed ?? 10_000_000,
        owner: undefined,
        portNo: 0,
        linkDown: false,
        rxFrames: 0,
        txFrames: 0,
        droppedFrames: 0,
        tx: new Subject<Buffer>(),
      });
    }
  }

  /** NIC port numbers, ascending. */
  get portNumbers(): number[] {
    return [...this.ports.keys()].sort((a, b) => a - b);
  }

  createInstance(spec: CreateInstanceSpec): SwitchInstance {
    if (typeof spec.datapathId !== 'bigint' || spec.datapathId < 0n || spec.datapathId > 0xffffffffffffffffn) {
      throw new NicError('BAD_ARGUMENT', `bad datapath id ${String(spec.datapathId)}`);
    }
    if (this.instances.has(spec.datapathId)) throw new NicError('EXISTS', `instance ${dpidText(spec.datapathId)} exists`);
    // Validate every binding before changing anything.
    const bindings = (spec.ports ?? []).map((b) => (typeof b === 'number' ? { nicPort: b, portNo: b } : { nicPort: b.nicPort, portNo: b.portNo ?? b.nicPort }));
    const seenNic = new Set<number>();
    const seenNo = new Set<number>();
    for (const b of bindings) {
      this.checkFreePort(b.nicPort);
      checkPortNo(b.portNo);
      if (seenNic.has(b.nicPort)) throw new NicError('BAD_ARGUMENT', `NIC port ${b.nicPort} given twice`);
      if (seenNo.has(b.portNo)) throw new NicError('BAD_ARGUMENT', `instance port ${b.portNo} given twice`);
      seenNic.add(b.nicPort);
      seenNo.add(b.portNo);
    }
    const nTables = spec.nTables ?? DEFAULT_N_TABLES;
    const instance = this.factory({
      datapathId: spec.datapathId,
      ports: bindings.map((b) => this.portConfig(this.ports.get(b.nicPort)!, b.portNo)),
      nTables,
      clock: this.clock,
      ...(spec.maxEntriesPerTable === undefined ? {} : { maxEntriesPerTable: spec.maxEntriesPerTable }),
    });
    const byPortNo = new Map<number, NicPort>();
    const hosted: Hosted = {
      datapathId: spec.datapathId,
      nTables,
      instance,
      byPortNo,
      unsubscribe: instance.onTransmit((portNo, frame) => this.transmit(hosted, portNo, frame)),
    };
    for (const b of bindings) {
      const p = this.ports.get(b.nicPort)!;
      p.owner = hosted;
      p.portNo = b.portNo;
      byPortNo.set(b.portNo, p);
      if (p.linkDown) instance.setPortLinkDown(b.portNo, true);
    }
    this.instances.set(spec.datapathId, hosted);
    return instance;
  }

  /** Frees the instance's ports; its OpenFlow channels are the caller's to close. */
  destroyInstance(datapathId: bigint): void {
    const h = this.hosted(datapathId);
    h.unsubscribe();
    for (const p of h.byPortNo.values()) {
      p.owner = undefined;
      p.portNo = 0;
    }
    h.byPortNo.clear();
    this.instances.delete(datapathId);
  }

  getInstance(datapathId: bigint): SwitchInstance {
    return this.hosted(datapathId).instance;
  }

  hasInstance(datapathId: bigint): boolean {
    return this.instances.has(datapathId);
  }

  listInstances(): InstanceInfo[] {
    return [...this.instances.values()]
      .sort((a, b) => (a.datapathId < b.datapathId ? -1 : a.datapathId > b.datapathId ? 1 : 0))
      .map((h) => ({
        datapathId: h.datapathId,
        nTables: h.nTables,
        ports: [...h.byPortNo.values()].sort((a, b) => a.nicPort - b.nicPort).map((p) => ({ nicPort: p.nicPort, portNo: p.portNo })),
      }));
  }

  listPorts(): NicPortInfo[] {
    return this.portNumbers.map((n) => {
      const p = this.ports.get(n)!;
      return {
        nicPort: p.nicPort,
        name: p.name,
        hwAddr: p.hwAddr,
        owner: p.owner?.datapathId,
        portNo: p.owner === undefined ? undefined : p.portNo,
        linkDown: p.linkDown,
        rxFrames: p.rxFrames,
        txFrames: p.txFrames,
        droppedFrames: p.droppedFrames,
      };
    });
  }

  /** Gives a free NIC port to an instance, as its port `portNo` (default: the NIC port's number); the instance announces it (PORT_STATUS ADD). */
  attachPort(datapathId: bigint, nicPort: number, portNo: number = nicPort): void {
    const h = this.hosted(datapathId);
    const p = this.checkFreePort(nicPort);
    checkPortNo(portNo);
    if (h.byPortNo.has(portNo)) throw new NicError('PORT_IN_USE', `instance ${dpidText(datapathId)} already has a port ${portNo}`);
    h.instance.addPort(this.portConfig(p, portNo));
    p.owner = h;
    p.portNo = portNo;
    h.byPortNo.set(portNo, p);
    if (p.linkDown) h.instance.setPortLinkDown(portNo, true);
  }

  /** Takes a NIC port back from whichever instance owns it (PORT_STATUS DELETE there). */
  detachPort(nicPort: number): void {
    const p = this.port(nicPort);
    const h = p.owner;
    if (h === undefined) throw new NicError('PORT_NOT_ATTACHED', `NIC port ${nicPort} is not attached`);
    h.byPortNo.delete(p.portNo);
    p.owner = undefined;
    h.instance.removePort(p.portNo);
    p.portNo = 0;
  }

  /** Link state of a NIC port, followed by its owner (and kept across attach). */
  setLinkDown(nicPort: number, down: boolean): void {
    const p = this.port(nicPort);
    p.linkDown = down;
    if (p.owner !== undefined) p.owner.instance.setPortLinkDown(p.portNo, down);
  }

  /**
   * A frame arriving on a NIC port. Returns false when nobody got it (no
   * owner, or the link is down); the frame is then counted as dropped.
   */
  inject(nicPort: number, frame: Buffer): boolean {
    const p = this.port(nicPort);
    if (p.owner === undefined || p.linkDown) {
      p.droppedFrames++;
      return false;
    }
    p.rxFrames++;
    p.owner.instance.receiveFrame(p.portNo, frame);
    return true;
  }

  /** Frames leaving one NIC port (hot: only frames sent while subscribed). */
  capture(nicPort: number): Observable<Buffer> {
    return this.port(nicPort).tx.asObservable();
  }

  /** Frames leaving any NIC port. */
  captureAll(): Observable<TransmittedFrame> {
    return this.allTx.asObservable();
  }

  /** Runs every instance's timeouts. */
  tick(): void {
    for (const h of this.instances.values()) h.instance.tick();
  }

  /** Destroys every instance and completes the capture streams. */
  shutdown(): void {
    for (const d of [...this.instances.keys()]) this.destroyInstance(d);
    for (const p of this.ports.values()) p.tx.complete();
    this.allTx.complete();
  }

  private transmit(h: Hosted, portNo: number, frame: Buffer): void {
    const p = h.byPortNo.get(portNo);
    // A port the instance still thinks it has but the NIC took back, or a destroyed instance.
    if (p === undefined || p.owner !== h || p.linkDown) return;
    p.txFrames++;
    if (p.tx.observed) p.tx.next(frame);
    if (this.allTx.observed) this.allTx.next({ nicPort: p.nicPort, frame });
  }

  private hosted(datapathId: bigint): Hosted {
    const h = this.instances.get(datapathId);
    if (h === undefined) throw new NicError('NO_SUCH_INSTANCE', `no instance ${typeof datapathId === 'bigint' ? dpidText(datapathId) : String(datapathId)}`);
    return h;
  }

  private port(nicPort: number): NicPort {
    const p = this.ports.get(nicPort);
    if (p === undefined) throw new NicError('NO_SUCH_PORT', `no NIC port ${nicPort}`);
    return p;
  }

  private checkFreePort(nicPort: number): NicPort {
    const p = this.port(nicPort);
    if (p.owner !== undefined) throw new NicError('PORT_IN_USE', `NIC port ${nicPort} belongs to instance ${dpidText(p.owner.datapathId)}`);
    return p;
  }

  private portConfig(p: NicPort, portNo: number): PortConfig {
    return { portNo, name: p.name, hwAddr: p.hwAddr, currSpeed: p.currSpeed, maxSpeed: p.maxSpeed };
  }
}

function checkPortNo(portNo: number): void {
  if (!Number.isInteger(portNo) || portNo < 1 || portNo > 0xffffff00) throw new NicError('BAD_ARGUMENT', `bad instance port number ${portNo}`);
}
