/**
 * The checks shared by every message that carries actions or instructions
 * (flow-mod, packet-out, group buckets): where packets may go, which groups
 * and meters may be used, and how goto-table is translated.
 */
import { OFPAT, OFPBAC, OFPBIC, OFPET, OFPG, OFPIT, OFPM, OFPMMFC, OFPP } from '@nicvisor/openflow';
import type { Action, Instruction } from '@nicvisor/openflow';
import { inRange, Ownership } from '../model.js';
import { ALLOWED_RESERVED_OUTPUTS, isInstancePort, resolveTable } from '../view.js';
import { PolicyError } from './result.js';

/** Where an action list runs: OFPP_TABLE is meaningful in a packet-out only (§7.2.1). */
export type ActionContext = 'flow' | 'packet-out' | 'bucket';

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * An output port the vNF may send to: one of the instance's ports,
 * IN_PORT, CONTROLLER, FLOOD or ALL (the instance has no other ports, so
 * FLOOD/ALL stay within the vNF's), and TABLE in a packet-out.
 */
export function isAllowedOutput(own: Ownership, port: number, ctx: ActionContext): boolean {
  if (isInstancePort(own, port)) return true;
  if (ALLOWED_RESERVED_OUTPUTS.includes(port)) return true;
  return ctx === 'packet-out' && port === OFPP.TABLE;
}

/** A group id the tenant may use: 0..OFPG_MAX outside the operator's range. */
export function isTenantGroupId(own: Ownership, groupId: number): boolean {
  return groupId <= OFPG.MAX && !inRange(own.reserved.groups, groupId);
}

/** A meter id the tenant may use: 1..OFPM_MAX outside the operator's range (the virtual meters are the operator's). */
export function isTenantMeterId(own: Ownership, meterId: number): boolean {
  return meterId >= 1 && meterId <= OFPM.MAX && !inRange(own.reserved.meters, meterId);
}

/**
 * The first action the vNF may not use, as its error:
 * OFPBAC_BAD_OUT_PORT for an output elsewhere, OFPBAC_BAD_OUT_GROUP for an
 * operator (or invalid) group, OFPBAC_BAD_EXPERIMENTER for any experimenter
 * action (opaque, so it cannot be verified: a Nicira resubmit or
 * output_reg could reach anything).
 */
export function checkActions(own: Ownership, actions: readonly Action[], ctx: ActionContext): PolicyError | undefined {
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i];
    switch (a.type) {
      case OFPAT.OUTPUT:
        if (!isAllowedOutput(own, a.port, ctx)) {
          return { type: OFPET.BAD_ACTION, code: OFPBAC.BAD_OUT_PORT, reason: `output to port ${hex(a.port)} is not one of the instance's` };
        }
        break;
      case OFPAT.GROUP:
        if (!isTenantGroupId(own, a.groupId)) {
          return { type: OFPET.BAD_ACTION, code: OFPBAC.BAD_OUT_GROUP, reason: `group ${hex(a.groupId)} is not the tenant's` };
        }
        break;
      case OFPAT.EXPERIMENTER:
        return {
          type: OFPET.BAD_ACTION,
          code: OFPBAC.BAD_EXPERIMENTER,
          reason: `experimenter action ${hex(a.experimenter)} is not supported`,
        };
    }
  }
  return undefined;
}

export type InstructionsCheck = { ok: true; instructions: Instruction[] } | { ok: false; error: PolicyError };

/**
 * Checks a flow's instructions in table `physicalTable` and translates
 * goto-table to physical ids: goto only forward into an owned table
 * (OFPBIC_BAD_TABLE_ID), actions as in `checkActions`, a meter the tenant's
 * (OFPMMFC_INVALID_METER, what a switch answers for a meter that does not
 * exist, so operator meters stay unseen), no experimenter instruction
 * (OFPBIC_BAD_EXPERIMENTER). The list is returned as is when nothing needed
 * translating.
 */
export function checkInstructions(own: Ownership, physicalTable: number, instructions: Instruction[]): InstructionsCheck {
  let out: Instruction[] | undefined;
  for (let i = 0; i < instructions.length; i++) {
    const ins = instructions[i];
    switch (ins.type) {
      case OFPIT.GOTO_TABLE: {
        const ref = resolveTable(own, ins.tableId);
        if (ref.kind !== 'owned') {
          const why = ref.kind === 'foreign' ? 'is not the tenant\'s' : 'is outside its view';
          return { ok: false, error: { type: OFPET.BAD_INSTRUCTION, code: OFPBIC.BAD_TABLE_ID, reason: `goto table ${ins.tableId} ${why}` } };
        }
        if (ref.physical <= physicalTable) {
          return {
            ok: false,
            error: { type: OFPET.BAD_INSTRUCTION, code: OFPBIC.BAD_TABLE_ID, reason: `goto table ${ins.tableId} does not go forward` },
          };
        }
        if (ref.physical !== ins.tableId) {
          out ??= instructions.slice();
          out[i] = { type: OFPIT.GOTO_TABLE, tableId: ref.physical };
        }
        break;
      }
      case OFPIT.APPLY_ACTIONS:
      case OFPIT.WRITE_ACTIONS: {
        const error = checkActions(own, ins.actions, 'flow');
        if (error) return { ok: false, error };
        break;
      }
      case OFPIT.METER:
        if (!isTenantMeterId(own, ins.meterId)) {
          return {
            ok: false,
            error: { type: OFPET.METER_MOD_FAILED, code: OFPMMFC.INVALID_METER, reason: `meter ${hex(ins.meterId)} is not the tenant's` },
          };
        }
        break;
      case OFPIT.EXPERIMENTER:
        return {
          ok: false,
          error: {
            type: OFPET.BAD_INSTRUCTION,
            code: OFPBIC.BAD_EXPERIMENTER,
            reason: `experimenter instruction ${hex(ins.experimenter)} is not supported`,
          },
        };
    }
  }
  return { ok: true, instructions: out ?? instructions };
}
