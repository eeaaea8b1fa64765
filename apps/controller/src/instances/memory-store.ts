/**
 * A ControllerStore in memory: for unit tests, and the fallback until the
 * SQLite store (libs/storage) is bound in app.module.ts. Nothing survives a
 * restart.
 */
import type { AuditFilter, AuditRecord, ControllerStore, InstanceRecord, TenantRecord } from './controller-store.js';

export class MemoryStore implements ControllerStore {
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly tenants = new Map<string, TenantRecord>();
  private readonly audit: AuditRecord[] = [];
  private counter = 0;

  getInstance(vnf: string): InstanceRecord | undefined {
    const r = this.instances.get(vnf);
    return r === undefined ? undefined : structuredClone(r);
  }
  listInstances(): InstanceRecord[] {
    return [...this.instances.values()].map((r) => structuredClone(r)).sort((a, b) => (a.vnf < b.vnf ? -1 : a.vnf > b.vnf ? 1 : 0));
  }
  putInstance(rec: InstanceRecord): void {
    this.instances.set(rec.vnf, structuredClone(rec));
  }
  deleteInstance(vnf: string): void {
    this.instances.delete(vnf);
  }
  listTenants(): TenantRecord[] {
    return [...this.tenants.values()];
  }
  ensureTenant(tenant: string): void {
    if (!this.tenants.has(tenant)) this.tenants.set(tenant, { tenant, createdAt: new Date().toISOString() });
  }
  nextDatapathCounter(): number {
    return ++this.counter;
  }
  appendAudit(rec: AuditRecord): void {
    this.audit.push({ ...rec, id: this.audit.length + 1 });
  }
  queryAudit(f: AuditFilter): AuditRecord[] {
    const out = this.audit.filter(
      (a) => (f.vnf === undefined || a.vnf === f.vnf) && (f.tenant === undefined || a.tenant === f.tenant) && (f.since === undefined || a.at >= f.since),
    );
    return f.limit === undefined ? out : out.slice(-f.limit);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
