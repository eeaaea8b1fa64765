/**
 * Records the store reads and writes. Times are milliseconds since the Unix
 * epoch (`Date.now()`); JSON columns come back as plain objects.
 */

/** Who installed an entry or acted: the operator, or a tenant id. */
export type Principal = string;

/** nicvisor's own principal (owner of table 0 in the default layout). */
export const OPERATOR: Principal = 'operator';

export interface TenantRecord {
  id: string;
  createdAt: number;
  /** The vNFs of this tenant that have an instance, sorted. */
  vnfs: string[];
}

/** Which physical tables each principal owns, and whether the vNF sees them renumbered from 0. */
export interface TablesLayout {
  operator: number[];
  tenant: number[];
  virtual: boolean;
  /** The instance's physical table count (ids 0..count-1), when the controller records it. */
  count?: number;
}

/** Per-vNF limits; the controller defines the keys (e.g. flows, groups, meters, packetInsPerSecond). */
export type Quotas = Record<string, number>;

export type ChannelMode = 'listen' | 'connect';

/** The vNF's delegated OpenFlow channel. */
export interface ChannelConfig {
  mode: ChannelMode;
  /** `tcp:HOST:PORT` the controller dials in connect mode. */
  target?: string;
  /** The TCP port nicvisor listens on in listen mode; kept so a restart reuses it. Unique across instances. */
  endpointPort?: number;
}

export interface InstanceRecord {
  /** Primary key. */
  vnf: string;
  tenant: string;
  nic: string;
  /** 16 lower-case hex digits. Unique across instances. */
  datapathId: string;
  /** NIC port numbers attached to the instance; a (nic, port) pair belongs to at most one instance. */
  ports: number[];
  tables: TablesLayout;
  quotas: Quotas;
  channel: ChannelConfig;
  /** The create request body as received, for idempotent-create checks (see `sameRequest`). */
  request: unknown;
  createdAt: number;
  updatedAt: number;
}

/** What `instances.create` takes; times default to now. */
export type NewInstance = Omit<InstanceRecord, 'createdAt' | 'updatedAt'> & { createdAt?: number };

/** What `instances.update` may change; omitted fields are kept. */
export type InstancePatch = Partial<Pick<InstanceRecord, 'ports' | 'quotas' | 'tables' | 'channel' | 'request'>>;

/**
 * A flow in the shadow table: row `id` (handed out by the instance's
 * FlowRowIds) holds `flowMod`, the encoded OFPT_FLOW_MOD that reinstalls
 * the entry (physical table id); table, priority, cookie and `match` (its
 * canonical bytes, see `canonicalMatch`) are read from those bytes.
 */
export interface ShadowFlow {
  vnf: string;
  id: number;
  tableId: number;
  priority: number;
  match: Buffer;
  owner: Principal;
  /** 64-bit cookie, unsigned. */
  cookie: bigint;
  flowMod: Buffer;
}

/** A group in the shadow: the encoded OFPT_GROUP_MOD (command ADD) that reinstalls it. */
export interface ShadowGroup {
  vnf: string;
  groupId: number;
  owner: Principal;
  groupMod: Buffer;
}

/** A meter in the shadow: the encoded OFPT_METER_MOD (command ADD) that reinstalls it. */
export interface ShadowMeter {
  vnf: string;
  meterId: number;
  owner: Principal;
  meterMod: Buffer;
}

export interface ShadowCounts {
  flows: number;
  groups: number;
  meters: number;
}

/** Totals for an instance, and the same split by owner. */
export interface InstanceCounts extends ShadowCounts {
  byOwner: Record<Principal, ShadowCounts>;
}

export type AuditResult = 'ok' | 'denied' | 'error';

/** One audit entry as appended. */
export interface AuditEntry {
  /** Defaults to the time of `append`. */
  time?: number;
  /** 'operator', 'orchestrator', or a tenant id. */
  actor: string;
  /** The tenant concerned; when omitted and `vnf` is given, the vNF's tenant at flush time. */
  tenant?: string;
  vnf?: string;
  /** What was attempted, e.g. 'instance.create', 'flow-mod.add'. */
  action: string;
  /** Any JSON-serialisable detail (bigints are written as decimal strings). */
  detail?: unknown;
  result: AuditResult;
  /** OpenFlow error type / code names (e.g. 'FLOW_MOD_FAILED', 'EPERM'), or an API error's. */
  errorType?: string;
  errorCode?: string;
}

/** A stored audit entry. */
export interface AuditRecord {
  id: number;
  time: number;
  actor: string;
  tenant: string | null;
  vnf: string | null;
  action: string;
  detail: unknown;
  result: AuditResult;
  errorType: string | null;
  errorCode: string | null;
}

export interface AuditQuery {
  vnf?: string;
  tenant?: string;
  actor?: string;
  action?: string;
  result?: AuditResult;
  /** Entries at or after this time (ms, Date, or an ISO-8601 string). */
  since?: number | Date | string;
  /** Entries strictly before this time. */
  until?: number | Date | string;
  /** Entries with id greater than this (paging). */
  afterId?: number;
  /** At most this many (default 1000, at most 100,000). */
  limit?: number;
  /** 'asc' (oldest first, default) or 'desc' (newest first). */
  order?: 'asc' | 'desc';
}

/** Why a write was refused. */
export type ConflictReason =
  | 'vnf-exists'
  | 'different-request'
  | 'port-in-use'
  | 'datapath-in-use'
  | 'endpoint-in-use'
  | 'tenant-has-instances';

/** A write that contradicts what is stored (the API maps it to 409). */
export class StoreConflictError extends Error {
  constructor(
    readonly reason: ConflictReason,
    message: string,
    /** The vNF that already holds the resource, when there is one. */
    readonly holder?: string,
  ) {
    super(message);
    this.name = 'StoreConflictError';
  }
}

/** Input the store cannot take (a malformed datapath id, a bad query). */
export class StoreInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreInputError';
  }
}
