import { OFPAT, OFPBAC, OFPBRC, OFPET, OFPP } from '@nicvisor/openflow';
import { verifyPacketOut } from './packet-out.js';
import { accepted, denied, group, output, OWN, ownership, packetOut } from '../../test/fixtures.js';

describe('packet-out', () => {
  it('packet-out: in_port one of the instance\'s ports, CONTROLLER or ANY is allowed, unchanged', () => {
    for (const inPort of [1, 2, OFPP.CONTROLLER, OFPP.ANY]) {
      const po = packetOut({ inPort });
      expect(accepted(verifyPacketOut(OWN, po))).toEqual([po]);
    }
  });

  it('packet-out: in_port another port or LOCAL → OFPBRC_BAD_PORT', () => {
    for (const inPort of [3, OFPP.LOCAL]) {
      expect(denied(verifyPacketOut(OWN, packetOut({ inPort })))).toEqual([OFPET.BAD_REQUEST, OFPBRC.BAD_PORT]);
    }
  });

  it('packet-out: output to another port → OFPBAC_BAD_OUT_PORT', () => {
    expect(denied(verifyPacketOut(OWN, packetOut({ actions: [output(2), output(5)] })))).toEqual([OFPET.BAD_ACTION, OFPBAC.BAD_OUT_PORT]);
  });

  it('packet-out: FLOOD / ALL / IN_PORT / CONTROLLER outputs are allowed', () => {
    const po = packetOut({ actions: [output(OFPP.FLOOD), output(OFPP.ALL), output(OFPP.IN_PORT), output(OFPP.CONTROLLER)] });
    expect(accepted(verifyPacketOut(OWN, po))).toEqual([po]);
  });

  it('packet-out: output TABLE with in_port an instance port is allowed (enters the operator steering table)', () => {
    const po = packetOut({ inPort: 1, actions: [output(OFPP.TABLE)] });
    expect(accepted(verifyPacketOut(OWN, po))).toEqual([po]);
  });

  it('packet-out: output TABLE with in_port CONTROLLER when table 0 is the operator\'s → OFPBAC_BAD_OUT_PORT', () => {
    expect(denied(verifyPacketOut(OWN, packetOut({ inPort: OFPP.CONTROLLER, actions: [output(OFPP.TABLE)] })))).toEqual([
      OFPET.BAD_ACTION,
      OFPBAC.BAD_OUT_PORT,
    ]);
  });

  it('packet-out: output TABLE with in_port CONTROLLER is allowed when the tenant owns table 0', () => {
    const own = ownership({ tableCount: 4, tables: { operator: [] } });
    expect(accepted(verifyPacketOut(own, packetOut({ inPort: OFPP.CONTROLLER, actions: [output(OFPP.TABLE)] })))).toHaveLength(1);
  });

  it('packet-out: group action to an operator group → OFPBAC_BAD_OUT_GROUP', () => {
    expect(denied(verifyPacketOut(OWN, packetOut({ actions: [group(0xf0000000)] })))).toEqual([OFPET.BAD_ACTION, OFPBAC.BAD_OUT_GROUP]);
    expect(accepted(verifyPacketOut(OWN, packetOut({ actions: [group(1)] })))).toHaveLength(1);
  });

  it('packet-out: experimenter action → OFPBAC_BAD_EXPERIMENTER', () => {
    const nx = { type: OFPAT.EXPERIMENTER, experimenter: 0x2320, data: Buffer.alloc(8) } as const;
    expect(denied(verifyPacketOut(OWN, packetOut({ actions: [nx] })))).toEqual([OFPET.BAD_ACTION, OFPBAC.BAD_EXPERIMENTER]);
  });
});
