/**
 * How nicvisor allocates instances on a smart-NIC: the embedded emulator
 * (in process) or a standalone emulator (apps/smartnic) over its
 * microservice API. Either way the instance then dials the controller's
 * OpenFlow listener, where NicRegistry.waitFor(datapathId) finds it.
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
  /** "embedded" or "tcp:HOST:PORT". */
  readonly name: string;
  createInstance(req: CreateInstanceRequest): Promise<void>;
  destroyInstance(datapathId: bigint): Promise<void>;
  listInstances(): Promise<DriverInstance[]>;
  /** Gives a NIC port to an existing instance (PORT_STATUS ADD follows on its channel). */
  attachPort?(datapathId: bigint, nicPort: number): Promise<void>;
  /** Takes a NIC port back from whichever instance has it. */
  detachPort?(nicPort: number): Promise<void>;
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
