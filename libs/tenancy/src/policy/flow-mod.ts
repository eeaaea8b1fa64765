/** FLOW_MOD from a vNF (§7.3.4.2): table ownership, goto, outputs, groups, meters, cookies, quota. */
import { OFPET, OFPFC, OFPFMFC, OFPTT } from '@nicvisor/openflow';
import type { FlowMod, Instruction } from '@nicvisor/openflow';
import { inCookieSpace, Ownership, Usage } from '../model.js';
import { ownedTables, resolveTable } from '../view.js';
import { checkInstructions } from './actions.js';
import { accept, deny, Verdict } from './result.js';

function isDelete(command: number): boolean {
  return command === OFPFC.DELETE || command === OFPFC.DELETE_STRICT;
}

/**
 * `fm` with its table and instructions in physical terms. Written out field
 * by field: on the relay's hot path, spreading a flow-mod cost several times
 * as much as this literal (and the compiler checks that none is missed).
 */
function inPhysicalTerms(fm: FlowMod, tableId: number, instructions: Instruction[]): FlowMod {
  return {
    type: fm.type,
    xid: fm.xid,
    cookie: fm.cookie,
    cookieMask: fm.cookieMask,
    tableId,
    command: fm.command,
    idleTimeout: fm.idleTimeout,
    hardTimeout: fm.hardTimeout,
    priority: fm.priority,
    bufferId: fm.bufferId,
    outPort: fm.outPort,
    outGroup: fm.outGroup,
    flags: fm.flags,
    match: fm.match,
    instructions,
  };
}

/**
 * Verifies a flow-mod and rewrites it in physical terms:
 * - command beyond DELETE_STRICT → OFPFMFC_BAD_COMMAND;
 * - OFPTT_ALL: on DELETE / DELETE_STRICT narrowed to one flow-mod per owned
 *   table (same xid); with any other command OFPFMFC_BAD_TABLE_ID (as the spec);
 * - a table outside the view → OFPFMFC_BAD_TABLE_ID; visible but not owned
 *   → OFPFMFC_EPERM; an owned one is translated to its physical id;
 * - ADD with a cookie in the operator's namespace, or any command whose
 *   cookie/cookie_mask select only that namespace → OFPFMFC_EPERM;
 * - instructions (not for deletes, which ignore them) as in `checkInstructions`;
 * - ADD when `usage.flows` has reached `quotas.maxFlows` → OFPFMFC_TABLE_FULL
 *   (conservative: an ADD that would replace an identical flow is refused
 *   too at the limit, since only the NIC knows it would).
 */
export function verifyFlowMod(own: Ownership, fm: FlowMod, usage: Pick<Usage, 'flows'>): Verdict<FlowMod> {
  const { command } = fm;
  if (command > OFPFC.DELETE_STRICT) return deny(OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_COMMAND, `unknown flow-mod command ${command}`);

  const cookies = own.reserved.cookies;
  if (command === OFPFC.ADD) {
    if (inCookieSpace(cookies, fm.cookie)) {
      return deny(OFPET.FLOW_MOD_FAILED, OFPFMFC.EPERM, `cookie 0x${fm.cookie.toString(16)} is in the operator's namespace`);
    }
  } else if ((fm.cookieMask & cookies.mask) === cookies.mask && (fm.cookie & cookies.mask) === cookies.value) {
    return deny(OFPET.FLOW_MOD_FAILED, OFPFMFC.EPERM, 'cookie/cookie_mask select the operator\'s namespace');
  }

  if (fm.tableId === OFPTT.ALL) {
    if (!isDelete(command)) return deny(OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_TABLE_ID, 'OFPTT_ALL is only valid in a delete');
    return accept(...ownedTables(own).map((tableId) => inPhysicalTerms(fm, tableId, fm.instructions)));
  }

  const ref = resolveTable(own, fm.tableId);
  if (ref.kind === 'outside') return deny(OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_TABLE_ID, `table ${fm.tableId} is outside the vNF's view`);
  if (ref.kind === 'foreign') return deny(OFPET.FLOW_MOD_FAILED, OFPFMFC.EPERM, `table ${fm.tableId} is not the tenant's`);

  if (isDelete(command)) return accept(ref.physical === fm.tableId ? fm : inPhysicalTerms(fm, ref.physical, fm.instructions));

  const checked = checkInstructions(own, ref.physical, fm.instructions);
  if (!checked.ok) return checked;
  if (command === OFPFC.ADD && usage.flows >= own.quotas.maxFlows) {
    return deny(OFPET.FLOW_MOD_FAILED, OFPFMFC.TABLE_FULL, `flow quota of ${own.quotas.maxFlows} reached`);
  }
  if (ref.physical === fm.tableId && checked.instructions === fm.instructions) return accept(fm);
  return accept(inPhysicalTerms(fm, ref.physical, checked.instructions));
}
