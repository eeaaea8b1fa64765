/**
 * The seam between the orchestrator API and the OpenFlow core: everything
 * InstancesService needs from the NIC side (apps/controller/src/openflow and
 * nic). The API decides *what* (names, datapath ids, ports, layout, quotas,
 * endpoints, persistence, audit); the runtime does it on the wire (NIC
 * allocation, the operator's table-0 flows, the delegated channel, the
 * shadow). Bound to the core in app.module.ts under INSTANCE_RUNTIME.
 */
import type { Observable } from 'rxjs';
import type { FlowMod, FlowStats, GroupMod, MeterMod } from '@nicvisor/openflow';
import type { Ownership, Principal } from '@nicvisor/tenancy';

export type ChannelSpec =
  /** nicvisor listens for the vNF at host:port (0 = ephemeral; absent = the next free port of NICVISOR_CHANNEL_PORTS). */
  | { mode: 'listen'; host: string; port?: number; /** mutual TLS (nicvisor's CA) */ tls?: boolean }
  /** nicvisor dials the vNF's controller (an ssl: target: over mutual TLS), reconnecting with backoff. */
  | { mode: 'connect'; target: string };

/** The compute node whose configuration relay may also carry the channel (apps/relay). */
export type ChannelPlacement = { node?: string };

export interface RuntimeInstanceSpec {
  datapathId: bigint;
  /** "embedded" or a NIC name the runtime knows. */
  nic: string;
  /** vnf, tenant, ports, tableCount, tables, quotas. */
  ownership: Ownership;
  channel: ChannelSpec & ChannelPlacement;
  /**
   * A stored instance coming back after a restart: its channel opens at once
   * and the NIC instance is reconciled from the shadow whenever it reconnects,
   * however long that takes (its operator flows are in the shadow already).
   */
  restore?: boolean;
}

export interface RuntimeStartResult {
  /** `tcp:HOST:PORT`: the bound listen endpoint, or the connect target. */
  endpoint: string;
  /** A restored instance whose NIC instance has not reconnected yet (it is reconciled when it does). */
  nicPending?: true;
}

/** An entry of the instance's shadow, with the principal that installed it. */
export interface OwnedFlow {
  flow: FlowStats;
  /** null: on the NIC but in no one's shadow (resync removes such entries). */
  owner: Principal | null;
}

export interface OwnedEntry<T> {
  entry: T;
  owner: Principal | null;
}

/** What `GET /v1/instances/:vnf/events` streams. */
export interface InstanceEvent {
  type: 'flow-added' | 'flow-removed' | 'flow-modified' | 'counters' | 'connected' | 'disconnected';
  /** JSON-safe payload (flows through toJson). */
  data: Record<string, unknown>;
}

export interface InstanceRuntime {
  /**
   * Brings an instance up: creates it on the NIC unless it is there already
   * (restart), waits for its OpenFlow session, installs the operator's flows,
   * opens the delegated channel. Idempotent for a running vnf.
   */
  start(spec: RuntimeInstanceSpec): Promise<RuntimeStartResult>;
  /** Applies changed ports and quotas to a running instance (attach/detach, operator flows of new ports). */
  update(previous: Ownership, next: Ownership): Promise<void>;
  /** Tears an instance down: closes its channel, removes its flows, destroys it on the NIC. */
  destroy(vnf: string): Promise<void>;
  /** Whether the instance's NIC session is up. */
  connected(vnf: string): boolean;

  /** The instance's flows from the shadow, physical table ids, each with its owner. */
  flows(vnf: string): Promise<OwnedFlow[]>;
  /** Groups / meters (as the shadow has them), tables (stats), ports (desc merged with PORT_STATS counters when the NIC is up). */
  groups(vnf: string): Promise<Array<OwnedEntry<unknown>>>;
  meters(vnf: string): Promise<Array<OwnedEntry<unknown>>>;
  tables(vnf: string): Promise<Array<OwnedEntry<unknown>>>;
  ports(vnf: string): Promise<unknown[]>;

  /** Installs an operator flow-mod (ADD / MODIFY / DELETE…) on the instance; rejects with OfpError on the NIC's refusal. */
  operatorFlowMod(vnf: string, mod: FlowMod): Promise<void>;
  /** Installs operator group-mods / meter-mods (ids in the operator's range), recorded as the operator's; rejects with OfpError on the NIC's refusal. */
  operatorGroupMeterMods(vnf: string, mods: Array<GroupMod | MeterMod>): Promise<void>;

  /** A frame arriving on one of the instance's ports (NIC port = instance port); false when the NIC dropped it (link down). */
  inject(vnf: string, port: number, frame: Buffer): Promise<boolean>;

  /** Flow and counter events of one instance. */
  events(vnf: string): Observable<InstanceEvent>;

  /** Closes every channel and session (SIGTERM); instances stay on the NIC. */
  close(): Promise<void>;
}

/** Injection token of the InstanceRuntime. */
export const INSTANCE_RUNTIME = Symbol('INSTANCE_RUNTIME');
