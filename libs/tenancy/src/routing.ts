/**
 * From the NIC back: which principal an asynchronous message belongs to,
 * translated to the vNF's view when it is the vNF's. nicvisor itself (the
 * operator) sees every message anyway, as the NIC's only controller; these
 * functions decide whether the vNF gets it too.
 */
import { OFPTT, type FlowRemoved, type PacketIn, type PortStatus } from '@nicvisor/openflow';
import { OPERATOR, Ownership, Principal, Quotas, tenantOf, TenantPrincipal } from './model.js';
import { isInstancePort, isTenantTable, toVirtual } from './view.js';

/** Where a message from the NIC goes: to the vNF (translated), or to the operator only. */
export type Route<M> = { to: 'vnf'; principal: TenantPrincipal; vnf: string; message: M } | { to: 'operator'; principal: Principal; reason: string; message: M };

function toVnf<M>(own: Ownership, message: M): Route<M> {
  return { to: 'vnf', principal: tenantOf(own), vnf: own.vnf, message };
}

function toOperator<M>(reason: string, message: M): Route<M> {
  return { to: 'operator', principal: OPERATOR, reason, message };
}

/**
 * A packet-in goes to the owner of the table that produced it: a tenant
 * table → the vNF, table id translated to its view; an operator table (or
 * an id beyond the instance's) → the operator. One no table produced
 * (table_id OFPTT_ALL: a PACKET_OUT's output to CONTROLLER) → the vNF,
 * untranslated: only the vNF sends packet-outs on its instance. Packet-in
 * rate limits are separate (`takePacketIn`).
 */
export function routePacketIn(own: Ownership, pin: PacketIn): Route<PacketIn> {
  if (pin.tableId === OFPTT.ALL) return toVnf(own, pin);
  const v = toVirtual(own, pin.tableId);
  if (v === undefined) return toOperator(`table ${pin.tableId} is not the tenant's`, pin);
  return toVnf(own, v === pin.tableId ? pin : { ...pin, tableId: v });
}

/**
 * A flow-removed goes to the owner of the entry, as the shadow recorded it
 * (`ownerOfEntry`; when unknown, the owner of its table). It reaches the vNF
 * only when the owner is its tenant and the table is one of the tenant's
 * (anything inconsistent stays with the operator), table id translated.
 */
export function routeFlowRemoved(own: Ownership, fr: FlowRemoved, ownerOfEntry?: Principal): Route<FlowRemoved> {
  if (ownerOfEntry !== undefined && (ownerOfEntry.kind !== 'tenant' || ownerOfEntry.tenant !== own.tenant)) {
    return toOperator('the entry is the operator\'s', fr);
  }
  if (!isTenantTable(own, fr.tableId)) return toOperator(`table ${fr.tableId} is not the tenant's`, fr);
  const v = toVirtual(own, fr.tableId) as number;
  return toVnf(own, v === fr.tableId ? fr : { ...fr, tableId: v });
}

/** A port-status reaches the vNF only when the port is one of the instance's. */
export function routePortStatus(own: Ownership, ps: PortStatus): Route<PortStatus> {
  if (!isInstancePort(own, ps.desc.portNo)) return toOperator(`port ${ps.desc.portNo} is not one of the instance's`, ps);
  return toVnf(own, ps);
}

/** A token bucket for the packet-in quota, as plain data. */
export interface PacketInBucket {
  tokens: number;
  /** When `tokens` was last brought up to date, in milliseconds. */
  at: number;
}

export function fullPacketInBucket(quotas: Pick<Quotas, 'packetInsPerSecond'>, now: number): PacketInBucket {
  return { tokens: quotas.packetInsPerSecond, at: now };
}

/**
 * Whether one more packet-in may go to the vNF at `now` (ms), and the
 * bucket after it: `packetInsPerSecond` tokens a second, a burst of one
 * second's worth. A packet-in over the quota is dropped (counted by the
 * caller), never queued.
 */
export function takePacketIn(
  bucket: PacketInBucket,
  now: number,
  quotas: Pick<Quotas, 'packetInsPerSecond'>,
): { allowed: boolean; bucket: PacketInBucket } {
  const rate = quotas.packetInsPerSecond;
  const elapsed = Math.max(0, now - bucket.at);
  const tokens = Math.min(rate, bucket.tokens + (elapsed * rate) / 1000);
  if (tokens >= 1) return { allowed: true, bucket: { tokens: tokens - 1, at: now } };
  return { allowed: false, bucket: { tokens, at: now } };
}
