/**
 * Tenant mutations in the audit log: the OpenFlow core reports every flow,
 * group, meter, port and table change a vNF sends through its delegated
 * channel — accepted ones aggregated per barrier, each denied or failed one
 * on its own — and this turns them into audit entries.
 */
import type { MutationAudit } from '../openflow/delegated-channel.js';
import type { AuditRecord } from '../instances/controller-store.js';

const RESULT: Record<MutationAudit['result'], string> = { accepted: 'ok', denied: 'denied', failed: 'failed' };

/** `FLOW_MOD` → `openflow.flow-mod`. */
export function openflowAction(message: string): string {
  return `openflow.${message.toLowerCase().replace(/_/g, '-')}`;
}

export function openflowAuditRecord(e: MutationAudit, at: Date = new Date()): AuditRecord {
  return {
    at: at.toISOString(),
    actor: `openflow ${e.vnf}`,
    action: openflowAction(e.message),
    vnf: e.vnf,
    tenant: e.tenant,
    result: RESULT[e.result],
    count: e.count,
    ...(e.detail === undefined ? {} : { detail: e.detail }),
  };
}
