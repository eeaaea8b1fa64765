/**
 * How nicvisor allocates instances on a smart-NIC: the embedded emulator
 * (in process), a standalone emulator (apps/smartnic) over its
 * microservice API, or Open vSwitch through its OVSDB. Either way the
 * instance then dials the controller's OpenFlow listener, where
 * NicRegistry.waitFor(datapathId) finds it.
 */

export interface CreateInstanceRequest {
  /** The vNF the instance is for (names it in logs). */
  vnf: string;
  datapathId: bigint;
  /** NIC ports to attach; each appears in the instance under the same number. */
  ports: number[];
  nTables: number;
}

export interface DriverInstance {
  datapathId: bigint;
  nTables: number;
  ports: Array<{ nicPort: number; portNo: number }>;
}

export interface NicDriver {
  /** "embedded", "tcp:HOST:PORT" or "ovs:" and the OVSDB remote. */
  readonly name: string;
  createInstance(req: CreateInstanceRequest): Promise<void>;
  destroyInstance(datapathId: bigint): Promise<void>;
  listInstances(): Promise<DriverInstance[]>;
  /** Gives a NIC port to an existing instance (PORT_STATUS ADD follows on its channel). */
  attachPort?(datapathId: bigint, nicPort: number): Promise<void>;
  /** Takes a NIC port back from whichever instance has it. */
  detachPort?(nicPort: number): Promise<void>;
  /** A frame arriving on a NIC port (operator test traffic); false when nobody got it (no owner, link down). */
  inject?(nicPort: number, frame: Buffer): Promise<boolean>;
  /** Releases the driver's own resources (not the instances of a remote NIC). */
  close(): Promise<void>;
}

/** Injection token of the NicDriver. */
export const NIC_DRIVER = Symbol('NIC_DRIVER');

export const ENV_NIC = 'NICVISOR_NIC';
export const DEFAULT_EMBEDDED_PORTS = 16;

/** Thrown by drivers for a refused request; `code` as the emulator's NicError codes. */
export class NicDriverError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'NicDriverError';
  }
}
