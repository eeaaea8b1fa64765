/**
 * A standalone smart-NIC emulator (apps/smartnic) as the NIC, over its
 * microservice API (`NICVISOR_NIC=tcp:HOST:PORT`). Its instances are created
 * in connect mode, dialling the controller's OpenFlow listener.
 */
import { ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { parseTarget } from '@nicvisor/softswitch/channel.js';
import { NIC_PATTERNS } from '../../../smartnic/src/smartnic.constants.js';
import type { InstanceView } from '../../../smartnic/src/smartnic.dto.js';
import { CreateInstanceRequest, DriverInstance, NicDriver, NicDriverError } from './nic-driver.js';

export interface RemoteDriverOptions {
  /** The emulator's microservice, `tcp:HOST:PORT`. */
  target: string;
  /** The controller's OpenFlow listener as the emulator must dial it, `tcp:HOST:PORT`. */
  controllerTarget: () => string;
  /** Per call (ms). Default 10000. */
  timeoutMs?: number;
}

function hexDpid(d: bigint): string {
  return `0x${d.toString(16).padStart(16, '0')}`;
}

export class RemoteNicDriver implements NicDriver {
  readonly name: string;
  private readonly client: ClientProxy;

  constructor(private readonly opts: RemoteDriverOptions) {
    this.name = opts.target;
    const { host, port } = parseTarget(opts.target);
    this.client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host, port } });
  }

  private async call<T>(pattern: string, body: unknown): Promise<T> {
    try {
      return await firstValueFrom(this.client.send<T>(pattern, body).pipe(timeout(this.opts.timeoutMs ?? 10_000)));
    } catch (e) {
      const err = e as { code?: string; message?: string };
      throw new NicDriverError(err.code ?? 'REMOTE', `${this.opts.target} ${pattern}: ${err.message ?? String(e)}`);
    }
  }

  async createInstance(req: CreateInstanceRequest): Promise<void> {
    await this.call<InstanceView>(NIC_PATTERNS.INSTANCE_CREATE, {
      datapathId: hexDpid(req.datapathId),
      ports: req.ports,
      nTables: req.nTables,
      connect: this.opts.controllerTarget(),
    });
  }

  async destroyInstance(datapathId: bigint): Promise<void> {
    await this.call(NIC_PATTERNS.INSTANCE_DESTROY, { datapathId: hexDpid(datapathId) });
  }

  async listInstances(): Promise<DriverInstance[]> {
    const list = await this.call<InstanceView[]>(NIC_PATTERNS.INSTANCE_LIST, {});
    return list.map((v) => ({ datapathId: BigInt(v.datapathId), nTables: v.nTables, ports: v.ports }));
  }

  async attachPort(datapathId: bigint, nicPort: number): Promise<void> {
    await this.call(NIC_PATTERNS.PORT_ATTACH, { datapathId: hexDpid(datapathId), nicPort });
  }

  async detachPort(nicPort: number): Promise<void> {
    await this.call(NIC_PATTERNS.PORT_DETACH, { nicPort });
  }

  async inject(nicPort: number, frame: Buffer): Promise<boolean> {
    return (await this.call<{ delivered: boolean }>(NIC_PATTERNS.FRAME_INJECT, { nicPort, frame: frame.toString('hex') })).delivered;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
