import { OFPBAC, OFPET, OFPG, OFPGC, OFPGMFC, OFPGT, OFPM, OFPMBT, OFPMC, OFPMF, OFPMMFC, OFPP, OFPT } from '@nicvisor/openflow';
import type { Bucket, GroupMod, MeterMod } from '@nicvisor/openflow';
import { verifyGroupMod, verifyMeterMod } from './group-meter.js';
import { accepted, denied, EMPTY, group, output, OWN, ownership } from '../../test/fixtures.js';

const GMF = OFPET.GROUP_MOD_FAILED;
const MMF = OFPET.METER_MOD_FAILED;

function bucket(fields: Partial<Bucket> = {}): Bucket {
  return { weight: 0, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: [output(1)], ...fields };
}

function groupMod(fields: Partial<GroupMod> = {}): GroupMod {
  return { type: OFPT.GROUP_MOD, xid: 9, command: OFPGC.ADD, groupType: OFPGT.ALL, groupId: 1, buckets: [bucket()], ...fields };
}

function meterMod(fields: Partial<MeterMod> = {}): MeterMod {
  return {
    type: OFPT.METER_MOD,
    xid: 10,
    command: OFPMC.ADD,
    flags: OFPMF.KBPS,
    meterId: 1,
    bands: [{ type: OFPMBT.DROP, rate: 1000, burstSize: 0 }],
    ...fields,
  };
}

describe('group-mod', () => {
  it('group-mod: ADD of a tenant group is passed on unchanged', () => {
    const gm = groupMod();
    expect(accepted(verifyGroupMod(OWN, gm, EMPTY))).toEqual([gm]);
  });

  it('group-mod: any command on an id in the operator range → OFPGMFC_EPERM', () => {
    for (const command of [OFPGC.ADD, OFPGC.MODIFY, OFPGC.DELETE]) {
      for (const groupId of [0xf0000000, OFPG.MAX]) {
        expect(denied(verifyGroupMod(OWN, groupMod({ command, groupId }), EMPTY))).toEqual([GMF, OFPGMFC.EPERM]);
      }
    }
  });

  it('group-mod: ADD of OFPG_ALL / OFPG_ANY → OFPGMFC_INVALID_GROUP', () => {
    expect(denied(verifyGroupMod(OWN, groupMod({ groupId: OFPG.ALL }), EMPTY))).toEqual([GMF, OFPGMFC.INVALID_GROUP]);
    expect(denied(verifyGroupMod(OWN, groupMod({ groupId: OFPG.ANY }), EMPTY))).toEqual([GMF, OFPGMFC.INVALID_GROUP]);
  });

  it('group-mod: DELETE of OFPG_ALL is narrowed to one delete per installed tenant group', () => {
    const out = accepted(verifyGroupMod(OWN, groupMod({ command: OFPGC.DELETE, groupId: OFPG.ALL, buckets: [] }), { ...EMPTY, groups: [3, 7] }));
    expect(out).toEqual([groupMod({ command: OFPGC.DELETE, groupId: 3, buckets: [] }), groupMod({ command: OFPGC.DELETE, groupId: 7, buckets: [] })]);
  });

  it('group-mod: DELETE of OFPG_ALL with no tenant group sends nothing', () => {
    expect(accepted(verifyGroupMod(OWN, groupMod({ command: OFPGC.DELETE, groupId: OFPG.ALL }), EMPTY))).toEqual([]);
  });

  it('group-mod: ADD of a new group at the quota → OFPGMFC_OUT_OF_GROUPS', () => {
    const own = ownership({ quotas: { maxGroups: 2 } });
    expect(denied(verifyGroupMod(own, groupMod({ groupId: 9 }), { ...EMPTY, groups: [1, 2] }))).toEqual([GMF, OFPGMFC.OUT_OF_GROUPS]);
    expect(accepted(verifyGroupMod(own, groupMod({ groupId: 9 }), { ...EMPTY, groups: [1] }))).toHaveLength(1);
  });

  it('group-mod: at the quota, ADD of an installed id (the NIC answers GROUP_EXISTS) and MODIFY pass', () => {
    const own = ownership({ quotas: { maxGroups: 2 } });
    const usage = { ...EMPTY, groups: [1, 2] };
    expect(accepted(verifyGroupMod(own, groupMod({ groupId: 2 }), usage))).toHaveLength(1);
    expect(accepted(verifyGroupMod(own, groupMod({ command: OFPGC.MODIFY, groupId: 2 }), usage))).toHaveLength(1);
  });

  it('group-mod: bucket output to another port → OFPBAC_BAD_OUT_PORT', () => {
    expect(denied(verifyGroupMod(OWN, groupMod({ buckets: [bucket(), bucket({ actions: [output(4)] })] }), EMPTY))).toEqual([
      OFPET.BAD_ACTION,
      OFPBAC.BAD_OUT_PORT,
    ]);
  });

  it('group-mod: bucket chaining to an operator group → OFPBAC_BAD_OUT_GROUP; to a tenant group allowed', () => {
    expect(denied(verifyGroupMod(OWN, groupMod({ buckets: [bucket({ actions: [group(0xf0000002)] })] }), EMPTY))).toEqual([
      OFPET.BAD_ACTION,
      OFPBAC.BAD_OUT_GROUP,
    ]);
    expect(accepted(verifyGroupMod(OWN, groupMod({ buckets: [bucket({ actions: [group(2)] })] }), EMPTY))).toHaveLength(1);
  });

  it('group-mod: watch port not the instance\'s → OFPGMFC_BAD_WATCH; own watch port allowed', () => {
    const ff = { groupType: OFPGT.FF };
    expect(denied(verifyGroupMod(OWN, groupMod({ ...ff, buckets: [bucket({ watchPort: 5 })] }), EMPTY))).toEqual([GMF, OFPGMFC.BAD_WATCH]);
    expect(accepted(verifyGroupMod(OWN, groupMod({ ...ff, buckets: [bucket({ watchPort: 2 })] }), EMPTY))).toHaveLength(1);
  });

  it('group-mod: watch group in the operator range → OFPGMFC_BAD_WATCH', () => {
    expect(denied(verifyGroupMod(OWN, groupMod({ buckets: [bucket({ watchGroup: 0xf0000000 })] }), EMPTY))).toEqual([GMF, OFPGMFC.BAD_WATCH]);
  });

  it('group-mod: unknown command → OFPGMFC_BAD_COMMAND', () => {
    expect(denied(verifyGroupMod(OWN, groupMod({ command: 3 }), EMPTY))).toEqual([GMF, OFPGMFC.BAD_COMMAND]);
  });
});

describe('meter-mod', () => {
  it('meter-mod: ADD of a tenant meter is passed on unchanged', () => {
    const mm = meterMod();
    expect(accepted(verifyMeterMod(OWN, mm, EMPTY))).toEqual([mm]);
  });

  it('meter-mod: any command on an operator meter (range or virtual) → OFPMMFC_INVALID_METER', () => {
    for (const command of [OFPMC.ADD, OFPMC.MODIFY, OFPMC.DELETE]) {
      for (const meterId of [0xf0000000, OFPM.MAX, OFPM.CONTROLLER, OFPM.SLOWPATH]) {
        expect(denied(verifyMeterMod(OWN, meterMod({ command, meterId }), EMPTY))).toEqual([MMF, OFPMMFC.INVALID_METER]);
      }
    }
  });

  it('meter-mod: meter 0, or ADD of OFPM_ALL → OFPMMFC_INVALID_METER', () => {
    expect(denied(verifyMeterMod(OWN, meterMod({ meterId: 0 }), EMPTY))).toEqual([MMF, OFPMMFC.INVALID_METER]);
    expect(denied(verifyMeterMod(OWN, meterMod({ meterId: OFPM.ALL }), EMPTY))).toEqual([MMF, OFPMMFC.INVALID_METER]);
  });

  it('meter-mod: DELETE of OFPM_ALL is narrowed to one delete per installed tenant meter', () => {
    const out = accepted(verifyMeterMod(OWN, meterMod({ command: OFPMC.DELETE, meterId: OFPM.ALL, bands: [] }), { ...EMPTY, meters: [4, 5] }));
    expect(out).toEqual([meterMod({ command: OFPMC.DELETE, meterId: 4, bands: [] }), meterMod({ command: OFPMC.DELETE, meterId: 5, bands: [] })]);
  });

  it('meter-mod: ADD of a new meter at the quota → OFPMMFC_OUT_OF_METERS', () => {
    const own = ownership({ quotas: { maxMeters: 1 } });
    expect(denied(verifyMeterMod(own, meterMod({ meterId: 2 }), { ...EMPTY, meters: [1] }))).toEqual([MMF, OFPMMFC.OUT_OF_METERS]);
    expect(accepted(verifyMeterMod(own, meterMod({ meterId: 2 }), EMPTY))).toHaveLength(1);
    expect(accepted(verifyMeterMod(own, meterMod({ command: OFPMC.MODIFY, meterId: 1 }), { ...EMPTY, meters: [1] }))).toHaveLength(1);
  });

  it('meter-mod: unknown command → OFPMMFC_BAD_COMMAND', () => {
    expect(denied(verifyMeterMod(OWN, meterMod({ command: 7 }), EMPTY))).toEqual([MMF, OFPMMFC.BAD_COMMAND]);
  });
});
