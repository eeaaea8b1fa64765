/** The audit log of orchestrator calls: appended through the store (batched), queried by vNF, tenant and time. */
import { Inject, Injectable } from '@nestjs/common';
import { CONTROLLER_STORE, type AuditRecord, type ControllerStore } from '../instances/controller-store.js';
import type { AuditQueryDto } from './audit.dto.js';

export const DEFAULT_AUDIT_LIMIT = 1000;

@Injectable()
export class AuditService {
  constructor(@Inject(CONTROLLER_STORE) private readonly store: ControllerStore) {}

  record(entry: Omit<AuditRecord, 'at'> & { at?: string }): void {
    this.store.appendAudit({ ...entry, at: entry.at ?? new Date().toISOString() });
  }

  query(q: AuditQueryDto): AuditRecord[] {
    return this.store.queryAudit({
      ...(q.vnf === undefined ? {} : { vnf: q.vnf }),
      ...(q.tenant === undefined ? {} : { tenant: q.tenant }),
      ...(q.since === undefined ? {} : { since: new Date(q.since).toISOString() }),
      limit: q.limit ?? DEFAULT_AUDIT_LIMIT,
    });
  }

  /** The tenant a vNF belongs to, for entries that name only the vNF. */
  tenantOf(vnf: string): string | undefined {
    return this.store.getInstance(vnf)?.tenant;
  }
}
