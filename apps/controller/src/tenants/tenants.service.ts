/** Tenants: every tenant that has had an instance, with its current vNFs. */
import { Inject, Injectable } from '@nestjs/common';
import { CONTROLLER_STORE, type ControllerStore } from '../instances/controller-store.js';
import type { TenantView } from './tenants.dto.js';

@Injectable()
export class TenantsService {
  constructor(@Inject(CONTROLLER_STORE) private readonly store: ControllerStore) {}

  list(): TenantView[] {
    const vnfs = new Map<string, string[]>();
    for (const i of this.store.listInstances()) {
      const l = vnfs.get(i.tenant) ?? [];
      l.push(i.vnf);
      vnfs.set(i.tenant, l);
    }
    return this.store
      .listTenants()
      .map((t) => ({ tenant: t.tenant, createdAt: t.createdAt, vnfs: (vnfs.get(t.tenant) ?? []).sort() }))
      .sort((a, b) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : 0));
  }
}
