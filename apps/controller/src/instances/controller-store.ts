/**
 * What the orchestrator API keeps in the store: the instances (with the
 * request that created them, for idempotency), the tenants, the datapath-id
 * counter and the audit log. An interface, so the API depends on what it needs
 * rather than on SQLite; app.module.ts binds it to libs/storage (sqlite-store.ts).
 */
import type { Quotas, TableLayout } from '@nicvisor/tenancy';
import type { ChannelMode } from './instances.dto.js';

export interface InstanceRecord {
  vnf: string;
  tenant: string;
  nic: string;
  /** 16 lower-case hex digits. */
  datapathId: string;
  ports: number[];
  tableCount: number;
  tables: TableLayout;
  quotas: Quotas;
  channel: {
    mode: ChannelMode;
    /** connect: the vNF controller. */
    target?: string;
    /** listen: the bound port, reused after a restart. */
    port?: number;
    /** Mutual TLS: an ssl: target, or listen `tls: true` (kept in the create request). */
    tls?: boolean;
    endpoint: string;
  };
  /** The compute node whose relay may carry the channel (kept in the create request). */
  node?: string;
  /** Canonical JSON of the create request as it stands (PATCH updates it): same body again → 200. */
  request: string;
  createdAt: string;
  updatedAt: string;
}

export interface TenantRecord {
  tenant: string;
  createdAt: string;
}

export interface AuditRecord {
  id?: number;
  /** ISO time. */
  at: string;
  /** Who: "rest 127.0.0.1", "rpc", "openflow fw1" (a tenant mutation through the vNF's channel)… */
  actor: string;
  /** What: the message-pattern name of the operation ("instance.create"), or "openflow.flow-mod"… */
  action: string;
  vnf?: string;
  tenant?: string;
  /** The request (body/payload), JSON-safe. */
  request?: unknown;
  /** Result: "ok", "denied" (a tenant mutation the policy refused) or the error's name. */
  result: string;
  /** HTTP-style status (201, 409, …) of an orchestrator call. */
  status?: number;
  detail?: string;
  /** Tenant mutations: how many messages of this kind the entry stands for (accepted ones are aggregated per barrier). */
  count?: number;
}

export interface AuditFilter {
  vnf?: string;
  tenant?: string;
  /** ISO time; entries at or after it. */
  since?: string;
  limit?: number;
}

export interface ControllerStore {
  getInstance(vnf: string): InstanceRecord | undefined;
  listInstances(): InstanceRecord[];
  putInstance(rec: InstanceRecord): void;
  deleteInstance(vnf: string): void;
  listTenants(): TenantRecord[];
  ensureTenant(tenant: string): void;
  /** The next value of the persisted datapath-id counter (1, 2, …). */
  nextDatapathCounter(): number;
  appendAudit(rec: AuditRecord): void;
  queryAudit(filter: AuditFilter): AuditRecord[];
  /** Writes out anything batched. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Injection token of the ControllerStore. */
export const CONTROLLER_STORE = Symbol('CONTROLLER_STORE');
