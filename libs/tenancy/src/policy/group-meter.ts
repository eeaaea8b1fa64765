/** GROUP_MOD (§7.3.4.3) and METER_MOD (§7.3.4.4) from a vNF. */
import { OFPET, OFPG, OFPGC, OFPGMFC, OFPM, OFPMC, OFPMMFC, OFPP } from '@nicvisor/openflow';
import type { GroupMod, MeterMod } from '@nicvisor/openflow';
import { inRange, Ownership, Usage } from '../model.js';
import { isInstancePort } from '../view.js';
import { checkActions, isTenantGroupId, isTenantMeterId } from './actions.js';
import { accept, deny, PolicyError, Verdict } from './result.js';

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function checkBuckets(own: Ownership, gm: GroupMod): PolicyError | undefined {
  for (const b of gm.buckets) {
    if (b.watchPort !== OFPP.ANY && !isInstancePort(own, b.watchPort)) {
      return { type: OFPET.GROUP_MOD_FAILED, code: OFPGMFC.BAD_WATCH, reason: `watch port ${hex(b.watchPort)} is not one of the instance's` };
    }
    if (b.watchGroup !== OFPG.ANY && !isTenantGroupId(own, b.watchGroup)) {
      return { type: OFPET.GROUP_MOD_FAILED, code: OFPGMFC.BAD_WATCH, reason: `watch group ${hex(b.watchGroup)} is not the tenant's` };
    }
    const error = checkActions(own, b.actions, 'bucket');
    if (error) return error;
  }
  return undefined;
}

/**
 * Verifies a group-mod; ids are not translated (the tenant's ids are
 * physical ids, the operator's range is simply out of its reach).
 * - command beyond DELETE → OFPGMFC_BAD_COMMAND;
 * - DELETE of OFPG_ALL → one DELETE per group the tenant has installed
 *   (`usage.groups`), none if it has none;
 * - an id in the operator's range → OFPGMFC_EPERM; OFPG_ALL / OFPG_ANY or
 *   another id above OFPG_MAX otherwise → OFPGMFC_INVALID_GROUP;
 * - buckets: watch port one of the instance's or OFPP_ANY, watch group the
 *   tenant's or OFPG_ANY (else OFPGMFC_BAD_WATCH); actions as for flows;
 * - ADD of a new id with `quotas.maxGroups` installed → OFPGMFC_OUT_OF_GROUPS.
 */
export function verifyGroupMod(own: Ownership, gm: GroupMod, usage: Pick<Usage, 'groups'>): Verdict<GroupMod> {
  if (gm.command > OFPGC.DELETE) return deny(OFPET.GROUP_MOD_FAILED, OFPGMFC.BAD_COMMAND, `unknown group-mod command ${gm.command}`);
  if (gm.command === OFPGC.DELETE && gm.groupId === OFPG.ALL) {
    return accept(...usage.groups.filter((id) => isTenantGroupId(own, id)).map((groupId) => ({ ...gm, groupId, buckets: [] })));
  }
  if (inRange(own.reserved.groups, gm.groupId)) {
    return deny(OFPET.GROUP_MOD_FAILED, OFPGMFC.EPERM, `group ${hex(gm.groupId)} is in the operator's range`);
  }
  if (!isTenantGroupId(own, gm.groupId)) return deny(OFPET.GROUP_MOD_FAILED, OFPGMFC.INVALID_GROUP, `group ${hex(gm.groupId)} is not a valid group id`);
  if (gm.command === OFPGC.DELETE) return accept(gm);
  const error = checkBuckets(own, gm);
  if (error) return { ok: false, error };
  if (gm.command === OFPGC.ADD && usage.groups.length >= own.quotas.maxGroups && !usage.groups.includes(gm.groupId)) {
    return deny(OFPET.GROUP_MOD_FAILED, OFPGMFC.OUT_OF_GROUPS, `group quota of ${own.quotas.maxGroups} reached`);
  }
  return accept(gm);
}

/**
 * Verifies a meter-mod. The spec's meter-mod errors have no EPERM: from
 * the tenant's side the operator's meters (its range, and the virtual
 * meters OFPM_SLOWPATH / OFPM_CONTROLLER, which the operator uses to bound
 * packet-ins) do not exist and cannot be created, so any command on them is
 * OFPMMFC_INVALID_METER ("Meter specified is invalid"), as is meter 0.
 * - command beyond DELETE → OFPMMFC_BAD_COMMAND;
 * - DELETE of OFPM_ALL → one DELETE per meter the tenant has installed;
 * - ADD of a new id with `quotas.maxMeters` installed → OFPMMFC_OUT_OF_METERS.
 */
export function verifyMeterMod(own: Ownership, mm: MeterMod, usage: Pick<Usage, 'meters'>): Verdict<MeterMod> {
  if (mm.command > OFPMC.DELETE) return deny(OFPET.METER_MOD_FAILED, OFPMMFC.BAD_COMMAND, `unknown meter-mod command ${mm.command}`);
  if (mm.command === OFPMC.DELETE && mm.meterId === OFPM.ALL) {
    return accept(...usage.meters.filter((id) => isTenantMeterId(own, id)).map((meterId) => ({ ...mm, meterId, bands: [] })));
  }
  if (!isTenantMeterId(own, mm.meterId)) {
    const why = inRange(own.reserved.meters, mm.meterId) || mm.meterId > OFPM.MAX ? "is the operator's" : 'is not a valid meter id';
    return deny(OFPET.METER_MOD_FAILED, OFPMMFC.INVALID_METER, `meter ${hex(mm.meterId)} ${why}`);
  }
  if (mm.command === OFPMC.ADD && usage.meters.length >= own.quotas.maxMeters && !usage.meters.includes(mm.meterId)) {
    return deny(OFPET.METER_MOD_FAILED, OFPMMFC.OUT_OF_METERS, `meter quota of ${own.quotas.maxMeters} reached`);
  }
  return accept(mm);
}
