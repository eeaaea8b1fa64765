/**
 * The emulator's state: one SmartNic, the OpenFlow channel of each instance
 * (a listener or an active connection), and pcap captures per NIC port.
 * Controllers are thin wrappers over these methods; everything here takes
 * already-parsed values and throws NicError on a refused request.
 */
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Subscription } from 'rxjs';
import { ActiveChannel, ChannelListener, connect, listen } from '@nicvisor/softswitch/channel.js';
import { Clock } from '@nicvisor/softswitch/clock.js';
import { NicError, SmartNic } from '@nicvisor/softswitch/nic.js';
import { PcapFileWriter, readPcapFile } from '@nicvisor/softswitch/pcap.js';
import { DEFAULT_NIC_PORTS, SMARTNIC_OPTIONS, TICK_INTERVAL_MS } from './smartnic.constants.js';
import { formatDatapathId } from './smartnic.dto.js';
import type { InstanceView, ParsedCreate, PortView } from './smartnic.dto.js';

export interface SmartnicOptions {
  /** Physical ports of the NIC (default DEFAULT_NIC_PORTS). */
  nicPorts?: number;
  clock?: Clock;
  /** Run flow timeouts every this many ms (default TICK_INTERVAL_MS; 0 = never, for tests that tick by hand). */
  tickIntervalMs?: number;
}

interface Channel {
  listener?: ChannelListener;
  active?: ActiveChannel;
}

interface Capture {
  path: string;
  writer: PcapFileWriter;
  subscription: Subscription;
}

@Injectable()
export class SmartnicService implements OnModuleDestroy {
  private readonly log = new Logger('SmartNic');
  readonly nic: SmartNic;
  private readonly channels = new Map<bigint, Channel>();
  private readonly captures = new Map<number, Capture>();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(@Inject(SMARTNIC_OPTIONS) opts: SmartnicOptions) {
    this.nic = new SmartNic({ ports: opts.nicPorts ?? DEFAULT_NIC_PORTS, ...(opts.clock ? { clock: opts.clock } : {}) });
    const every = opts.tickIntervalMs ?? TICK_INTERVAL_MS;
    if (every > 0) {
      this.timer = setInterval(() => this.nic.tick(), every);
      this.timer.unref();
    }
  }

  async createInstance(req: ParsedCreate): Promise<InstanceView> {
    this.nic.createInstance({ datapathId: req.datapathId, ports: req.ports, ...(req.nTables === undefined ? {} : { nTables: req.nTables }) });
    const instance = this.nic.getInstance(req.datapathId);
    const channel: Channel = {};
    try {
      if (req.listen !== undefined) {
        channel.listener = await listen(instance, { port: req.listen.port, ...(req.listen.host === undefined ? {} : { host: req.listen.host }) });
      } else if (req.connect !== undefined) {
        channel.active = connect(instance, req.connect);
      }
    } catch (e) {
      this.nic.destroyInstance(req.datapathId);
      throw new NicError('BAD_ARGUMENT', `OpenFlow channel: ${(e as Error).message}`);
    }
    this.channels.set(req.datapathId, channel);
    const view = this.view(req.datapathId);
    this.log.log(`instance ${view.datapathId} created, ports ${JSON.stringify(view.ports)}${channel.listener ? `, OpenFlow on ${channel.listener.host}:${channel.listener.port}` : ''}${channel.active ? `, OpenFlow to ${channel.active.target}` : ''}`);
    return view;
  }

  async destroyInstance(datapathId: bigint): Promise<void> {
    if (!this.nic.hasInstance(datapathId)) throw new NicError('NO_SUCH_INSTANCE', `no instance ${formatDatapathId(datapathId)}`);
    const ch = this.channels.get(datapathId);
    this.channels.delete(datapathId);
    this.nic.destroyInstance(datapathId);
    await Promise.all([ch?.listener?.close(), ch?.active?.stop()]);
    this.log.log(`instance ${formatDatapathId(datapathId)} destroyed`);
  }

  listInstances(): InstanceView[] {
    return this.nic.listInstances().map((i) => this.view(i.datapathId));
  }

  listPorts(): PortView[] {
    return this.nic.listPorts().map((p) => ({
      ...p,
      owner: p.owner === undefined ? null : formatDatapathId(p.owner),
      portNo: p.portNo ?? null,
      capturing: this.captures.get(p.nicPort)?.path ?? null,
    }));
  }

  attachPort(datapathId: bigint, nicPort: number, portNo?: number): InstanceView {
    this.nic.attachPort(datapathId, nicPort, portNo);
    return this.view(datapathId);
  }

  detachPort(nicPort: number): void {
    this.nic.detachPort(nicPort);
  }

  setLinkDown(nicPort: number, down: boolean): void {
    this.nic.setLinkDown(nicPort, down);
  }

  inject(nicPort: number, frame: Buffer): boolean {
    return this.nic.inject(nicPort, frame);
  }

  /** Injects every frame of a pcap file on a NIC port, in order. */
  replayPcap(nicPort: number, path: string): { frames: number; delivered: number } {
    let records;
    try {
      records = readPcapFile(path).records;
    } catch (e) {
      throw new NicError('BAD_ARGUMENT', `cannot read ${path}: ${(e as Error).message}`);
    }
    let delivered = 0;
    for (const r of records) if (this.nic.inject(nicPort, r.data)) delivered++;
    return { frames: records.length, delivered };
  }

  /** Writes every frame leaving a NIC port to a new pcap file until stopped. */
  startCapture(nicPort: number, path: string): { nicPort: number; path: string } {
    const frames = this.nic.capture(nicPort); // throws NO_SUCH_PORT
    if (this.captures.has(nicPort)) throw new NicError('BAD_ARGUMENT', `NIC port ${nicPort} is already captured to ${this.captures.get(nicPort)!.path}`);
    let writer: PcapFileWriter;
    try {
      writer = new PcapFileWriter(path);
    } catch (e) {
      throw new NicError('BAD_ARGUMENT', `cannot write ${path}: ${(e as Error).message}`);
    }
    const subscription = frames.subscribe((f) => writer.write(f));
    this.captures.set(nicPort, { path, writer, subscription });
    return { nicPort, path };
  }

  stopCapture(nicPort: number): { nicPort: number; path: string; frames: number } {
    const c = this.captures.get(nicPort);
    if (c === undefined) throw new NicError('BAD_ARGUMENT', `NIC port ${nicPort} is not being captured`);
    c.subscription.unsubscribe();
    c.writer.close();
    this.captures.delete(nicPort);
    return { nicPort, path: c.path, frames: c.writer.frames };
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const port of [...this.captures.keys()]) this.stopCapture(port);
    await Promise.all([...this.channels.keys()].map((d) => this.destroyInstance(d)));
    this.nic.shutdown();
  }

  private view(datapathId: bigint): InstanceView {
    const info = this.nic.listInstances().find((i) => i.datapathId === datapathId);
    if (info === undefined) throw new NicError('NO_SUCH_INSTANCE', `no instance ${formatDatapathId(datapathId)}`);
    const ch = this.channels.get(datapathId) ?? {};
    return {
      datapathId: formatDatapathId(datapathId),
      nTables: info.nTables,
      ports: info.ports,
      channel: {
        ...(ch.listener ? { listen: { host: ch.listener.host, port: ch.listener.port, connections: ch.listener.connections } } : {}),
        ...(ch.active ? { connect: { target: ch.active.target, connected: ch.active.connected } } : {}),
      },
    };
  }
}
