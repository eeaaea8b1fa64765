/**
 * verifyFlowMod on a flow-mod's bytes, for the relay's hot path: the common
 * case, an OFPFC_ADD that verifyFlowMod accepts with at most its table and
 * goto-table ids translated, recognised without decoding the message.
 *
 * It only ever accepts. For anything else (another command, any denial,
 * what the codec's `wellFormedFlowMod` does not vouch for) it answers null,
 * and the caller decodes the message and takes `verifyFlowMod`, which gives
 * the canonical outcome or error. Where it accepts, verifyFlowMod accepts
 * the decoded message with the same translation: the rules are the same
 * predicates (`resolveTable`, `isAllowedOutput`, `isTenantGroupId`,
 * `isTenantMeterId`, `inCookieSpace`), and flow-mod-wire.spec.ts checks the
 * two against each other.
 */
import { FLOW_MOD_AT, OFPAT, OFPFC, OFPIT, OFPTT, readU64, u32At, wellFormedFlowMod } from '@nicvisor/openflow';
import { inCookieSpace, Ownership, Usage } from '../model.js';
import { resolveTable } from '../view.js';
import { isAllowedOutput, isTenantGroupId, isTenantMeterId } from './actions.js';

/** An accepted flow-mod's translation into physical terms. */
export interface WireFlowModAccept {
  /** The physical table id (the byte at FLOW_MOD_AT.tableId). */
  readonly tableId: number;
  /** Goto-table ids to rewrite: byte offset, physical id, offset, physical id, … (empty when none). */
  readonly gotos: readonly number[];
}

const NO_GOTOS: readonly number[] = Object.freeze([]);

/** Are the actions in [p, end) ones the vNF may use in a flow (checkActions)? `raw` is known to be well formed. */
function actionsAllowed(own: Ownership, raw: Uint8Array, p: number, end: number): boolean {
  for (; p < end; p += (raw[p + 2] << 8) | raw[p + 3]) {
    const type = (raw[p] << 8) | raw[p + 1];
    if (type === OFPAT.OUTPUT && !isAllowedOutput(own, u32At(raw, p + 4), 'flow')) return false;
    if (type === OFPAT.GROUP && !isTenantGroupId(own, u32At(raw, p + 4))) return false;
  }
  return true;
}

/** The flow-mod `raw` in physical terms, if verifyFlowMod would accept it as an ADD of the vNF's; null: decode it and ask verifyFlowMod. */
export function verifyFlowModWire(own: Ownership, raw: Uint8Array, usage: Pick<Usage, 'flows'>): WireFlowModAccept | null {
  if (!wellFormedFlowMod(raw) || raw[FLOW_MOD_AT.command] !== OFPFC.ADD) return null;
  if (usage.flows >= own.quotas.maxFlows) return null;
  if (inCookieSpace(own.reserved.cookies, readU64(raw, FLOW_MOD_AT.cookie))) return null;
  const viewTable = raw[FLOW_MOD_AT.tableId];
  if (viewTable === OFPTT.ALL) return null;
  const table = resolveTable(own, viewTable);
  if (table.kind !== 'owned') return null;
  let gotos = NO_GOTOS as number[];
  const mlen = (raw[FLOW_MOD_AT.match + 2] << 8) | raw[FLOW_MOD_AT.match + 3];
  for (let p = FLOW_MOD_AT.match + ((mlen + 7) & ~7); p < raw.length; ) {
    const type = (raw[p] << 8) | raw[p + 1];
    const len = (raw[p + 2] << 8) | raw[p + 3];
    switch (type) {
      case OFPIT.GOTO_TABLE: {
        const to = resolveTable(own, raw[p + 4]);
        if (to.kind !== 'owned' || to.physical <= table.physical) return null;
        if (to.physical !== raw[p + 4]) {
          if (gotos === NO_GOTOS) gotos = [];
          gotos.push(p + 4, to.physical);
        }
        break;
      }
      case OFPIT.APPLY_ACTIONS:
      case OFPIT.WRITE_ACTIONS:
        if (!actionsAllowed(own, raw, p + 8, p + len)) return null;
        break;
      case OFPIT.METER:
        if (!isTenantMeterId(own, u32At(raw, p + 4))) return null;
        break;
      // WRITE_METADATA and CLEAR_ACTIONS are not the policy's concern (checkInstructions).
    }
    p += len;
  }
  return { tableId: table.physical, gotos };
}
