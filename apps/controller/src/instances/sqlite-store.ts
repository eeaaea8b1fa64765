/**
 * The ControllerStore over libs/storage's SQLite Store (one database in the
 * data directory): instances, tenants, the datapath-id counter and the audit
 * log. The same Store also holds the shadow tables, written by the OpenFlow
 * core through its StoreShadowSink (`store` is exposed for that).
 *
 * Translations: times are ISO strings here and milliseconds in the store;
 * the create request is canonical JSON here and a JSON value there; a listen
 * endpoint is kept as its port (the host is the configured channel host);
 * an audit entry's HTTP status, request and detail go in the store's detail
 * column, a failure's name in its error type.
 */
import {
  canonicalJson,
  formatDatapathId,
  Store,
  StoreConflictError,
  type AuditRecord as StoredAudit,
  type AuditResult,
  type ChannelConfig,
  type ConflictReason,
  type InstanceRecord as StoredInstance,
  type StoreOptions,
} from '@nicvisor/storage';
import type { Quotas } from '@nicvisor/tenancy';
import type { AuditFilter, AuditRecord, ControllerStore, InstanceRecord, TenantRecord } from './controller-store.js';
import { conflict } from './instances.errors.js';

/** Name of the persisted datapath-id counter. */
export const DATAPATH_COUNTER = 'datapath-id';

const CONFLICT_FIELD: Record<ConflictReason, string | undefined> = {
  'vnf-exists': 'vnf',
  'different-request': 'vnf',
  'port-in-use': 'ports',
  'datapath-in-use': undefined,
  'endpoint-in-use': 'channel',
  'tenant-has-instances': 'tenant',
};

/** What the audit entry keeps beside the store's own columns. */
interface AuditDetail {
  request?: unknown;
  status?: number;
  detail?: string;
  count?: number;
}

export interface SqliteControllerStoreOptions extends StoreOptions {
  /** The host listen endpoints are bound on (NICVISOR_CHANNEL_HOST). */
  channelHost: string;
}

export class SqliteControllerStore implements ControllerStore {
  private readonly channelHost: string;

  constructor(
    /** The underlying store, shared with the core's shadow sink. */
    readonly store: Store,
    channelHost: string,
  ) {
    this.channelHost = channelHost;
  }

  /** Opens (creating if needed) `<dataDir>/nicvisor.db`. */
  static open(dataDir: string, { channelHost, ...options }: SqliteControllerStoreOptions): SqliteControllerStore {
    return new SqliteControllerStore(Store.openDataDir(dataDir, options), channelHost);
  }

  getInstance(vnf: string): InstanceRecord | undefined {
    const r = this.store.instances.get(vnf);
    return r === undefined ? undefined : this.fromStored(r);
  }

  listInstances(): InstanceRecord[] {
    return this.store.instances.list().map((r) => this.fromStored(r));
  }

  putInstance(rec: InstanceRecord): void {
    const channel: ChannelConfig = { mode: rec.channel.mode };
    if (rec.channel.target !== undefined) channel.target = rec.channel.target;
    if (rec.channel.mode === 'listen' && rec.channel.port !== undefined && rec.channel.port > 0) channel.endpointPort = rec.channel.port;
    const tables = { ...rec.tables, count: rec.tableCount };
    const request = JSON.parse(rec.request) as unknown;
    const quotas = { ...rec.quotas } as unknown as Record<string, number>;
    try {
      if (this.store.instances.get(rec.vnf) === undefined) {
        this.store.instances.create({
          vnf: rec.vnf,
          tenant: rec.tenant,
          nic: rec.nic,
          datapathId: rec.datapathId,
          ports: rec.ports,
          tables,
          quotas,
          channel,
          request,
          createdAt: Date.parse(rec.createdAt),
        });
      } else {
        this.store.instances.update(rec.vnf, { ports: rec.ports, tables, quotas, channel, request });
      }
    } catch (e) {
      if (e instanceof StoreConflictError) throw conflict(e.message, CONFLICT_FIELD[e.reason]);
      throw e;
    }
  }

  deleteInstance(vnf: string): void {
    this.store.instances.delete(vnf);
  }

  listTenants(): TenantRecord[] {
    return this.store.tenants.list().map((t) => ({ tenant: t.id, createdAt: new Date(t.createdAt).toISOString() }));
  }

  ensureTenant(tenant: string): void {
    this.store.tenants.ensure(tenant);
  }

  /** The next datapath id; skips any already held (an id given out by hand). */
  nextDatapathCounter(): number {
    for (;;) {
      const n = this.store.counters.next(DATAPATH_COUNTER);
      if (this.store.instances.byDatapathId(formatDatapathId(n)) === undefined) return n;
    }
  }

  appendAudit(rec: AuditRecord): void {
    // Late entries (a channel closing after the store) are dropped rather than thrown into a socket callback.
    if (!this.store.isOpen) return;
    const result: AuditResult = rec.result === 'ok' || rec.result === 'denied' ? rec.result : 'error';
    const detail: AuditDetail = {};
    if (rec.request !== undefined) detail.request = rec.request;
    if (rec.status !== undefined) detail.status = rec.status;
    if (rec.detail !== undefined) detail.detail = rec.detail;
    if (rec.count !== undefined) detail.count = rec.count;
    this.store.audit.append({
      time: Date.parse(rec.at),
      actor: rec.actor,
      action: rec.action,
      ...(rec.vnf === undefined ? {} : { vnf: rec.vnf }),
      ...(rec.tenant === undefined ? {} : { tenant: rec.tenant }),
      detail,
      result,
      ...(result === 'error' ? { errorType: rec.result } : {}),
      ...(result !== 'ok' && rec.status !== undefined ? { errorCode: String(rec.status) } : {}),
    });
  }

  /** Matching entries, oldest first; with a limit, the newest `limit` of them. */
  queryAudit(f: AuditFilter): AuditRecord[] {
    const rows = this.store.audit.query({
      ...(f.vnf === undefined ? {} : { vnf: f.vnf }),
      ...(f.tenant === undefined ? {} : { tenant: f.tenant }),
      ...(f.since === undefined ? {} : { since: f.since }),
      limit: f.limit ?? 100_000,
      order: 'desc',
    });
    return rows.reverse().map(fromStoredAudit);
  }

  async flush(): Promise<void> {
    if (this.store.isOpen) this.store.flush();
  }

  async close(): Promise<void> {
    this.store.close();
  }

  private fromStored(r: StoredInstance): InstanceRecord {
    const { count, ...tables } = r.tables;
    const port = r.channel.endpointPort;
    const tls = r.channel.mode === 'connect' ? (r.channel.target ?? '').startsWith('ssl:') : (r.request as { channel?: { tls?: unknown } }).channel?.tls === true;
    const endpoint = r.channel.mode === 'connect' ? (r.channel.target ?? '') : port === undefined ? '' : `${tls ? 'ssl' : 'tcp'}:${this.channelHost}:${port}`;
    return {
      vnf: r.vnf,
      tenant: r.tenant,
      nic: r.nic,
      datapathId: r.datapathId,
      ports: r.ports,
      tableCount: count ?? Math.max(...tables.operator, ...tables.tenant) + 1,
      tables,
      quotas: r.quotas as unknown as Quotas,
      channel: {
        mode: r.channel.mode,
        ...(r.channel.target === undefined ? {} : { target: r.channel.target }),
        ...(port === undefined ? {} : { port }),
        ...(tls ? { tls } : {}),
        endpoint,
      },
      ...(typeof (r.request as { node?: unknown }).node === 'string' ? { node: (r.request as { node: string }).node } : {}),
      request: canonicalJson(r.request),
      createdAt: new Date(r.createdAt).toISOString(),
      updatedAt: new Date(r.updatedAt).toISOString(),
    };
  }
}

function fromStoredAudit(r: StoredAudit): AuditRecord {
  const d = (r.detail ?? {}) as AuditDetail;
  return {
    id: r.id,
    at: new Date(r.time).toISOString(),
    actor: r.actor,
    action: r.action,
    ...(r.vnf === null ? {} : { vnf: r.vnf }),
    ...(r.tenant === null ? {} : { tenant: r.tenant }),
    ...(d.request === undefined ? {} : { request: d.request }),
    result: r.result === 'error' ? (r.errorType ?? 'error') : r.result,
    ...(d.status === undefined ? {} : { status: d.status }),
    ...(d.detail === undefined ? {} : { detail: d.detail }),
    ...(d.count === undefined ? {} : { count: d.count }),
  };
}
