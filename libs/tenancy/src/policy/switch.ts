/** TABLE_MOD (§7.3.3), PORT_MOD (§7.3.4.3) and QUEUE_GET_CONFIG (§7.3.6) from a vNF. */
import { OFPET, OFPP, OFPPC, OFPPMFC, OFPQOFC, OFPTMFC, OFPTT } from '@nicvisor/openflow';
import type { PortMod, QueueGetConfigReply, QueueGetConfigRequest, TableMod } from '@nicvisor/openflow';
import { Ownership } from '../model.js';
import { isInstancePort, ownedTables, resolveTable } from '../view.js';
import { accept, deny, Verdict } from './result.js';

/**
 * Table-mod: OFPTT_ALL narrowed to one table-mod per owned table; a table
 * outside the view → OFPTMFC_BAD_TABLE; visible but not owned →
 * OFPTMFC_EPERM; an owned one translated.
 */
export function verifyTableMod(own: Ownership, tm: TableMod): Verdict<TableMod> {
  if (tm.tableId === OFPTT.ALL) return accept(...ownedTables(own).map((tableId) => ({ ...tm, tableId })));
  const ref = resolveTable(own, tm.tableId);
  if (ref.kind === 'outside') return deny(OFPET.TABLE_MOD_FAILED, OFPTMFC.BAD_TABLE, `table ${tm.tableId} is outside the vNF's view`);
  if (ref.kind === 'foreign') return deny(OFPET.TABLE_MOD_FAILED, OFPTMFC.EPERM, `table ${tm.tableId} is not the tenant's`);
  return accept(ref.physical === tm.tableId ? tm : { ...tm, tableId: ref.physical });
}

/**
 * Port-mod: only on the instance's own ports (else OFPPMFC_EPERM, reserved
 * ports included). On its ports the vNF may change what concerns its own
 * traffic only: NO_RECV, NO_FWD, NO_PACKET_IN. The administrative state
 * (PORT_DOWN in the mask) and the advertised features (a non-zero
 * `advertise`) act on the link and its peer, which the operator manages
 * through the orchestrator: OFPPMFC_EPERM.
 */
export function verifyPortMod(own: Ownership, pm: PortMod): Verdict<PortMod> {
  if (!isInstancePort(own, pm.portNo)) {
    return deny(OFPET.PORT_MOD_FAILED, OFPPMFC.EPERM, `port 0x${pm.portNo.toString(16)} is not one of the instance's`);
  }
  if (pm.mask & OFPPC.PORT_DOWN) return deny(OFPET.PORT_MOD_FAILED, OFPPMFC.EPERM, 'the port\'s administrative state is the operator\'s');
  if (pm.advertise !== 0) return deny(OFPET.PORT_MOD_FAILED, OFPPMFC.EPERM, 'the port\'s advertised features are the operator\'s');
  return accept(pm);
}

/** Queue-config request: a port of the instance or OFPP_ANY, else OFPQOFC_BAD_PORT. */
export function verifyQueueGetConfig(own: Ownership, req: QueueGetConfigRequest): Verdict<QueueGetConfigRequest> {
  if (req.port !== OFPP.ANY && !isInstancePort(own, req.port)) {
    return deny(OFPET.QUEUE_OP_FAILED, OFPQOFC.BAD_PORT, `port 0x${req.port.toString(16)} is not one of the instance's`);
  }
  return accept(req);
}

/** The queue-config reply narrowed to the instance's ports. */
export function filterQueueGetConfigReply(own: Ownership, reply: QueueGetConfigReply): QueueGetConfigReply {
  const queues = reply.queues.filter((q) => isInstancePort(own, q.port));
  return queues.length === reply.queues.length ? reply : { ...reply, queues };
}
