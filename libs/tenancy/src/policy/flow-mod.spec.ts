import { OFPAT, OFPBAC, OFPBIC, OFPET, OFPFC, OFPFMFC, OFPIT, OFPM, OFPMMFC, OFPP, OFPTT } from '@nicvisor/openflow';
import type { Instruction } from '@nicvisor/openflow';
import { verifyFlowMod } from './flow-mod.js';
import { accepted, apply, CUSTOM, denied, EMPTY, flowMod, goto, group, meter, output, OWN, ownership, PHYS, write } from '../../test/fixtures.js';

const FMF = OFPET.FLOW_MOD_FAILED;

describe('flow-mod: tables', () => {
  it('flow-mod: view table 0 is translated to the tenant\'s first physical table', () => {
    const [m] = accepted(verifyFlowMod(OWN, flowMod({ tableId: 0 }), EMPTY));
    expect(m).toEqual(flowMod({ tableId: 1 }));
  });

  it('flow-mod: the last view table maps to physical T-1', () => {
    expect(accepted(verifyFlowMod(OWN, flowMod({ tableId: 6 }), EMPTY))[0].tableId).toBe(7);
  });

  it('flow-mod: table outside the view → OFPFMFC_BAD_TABLE_ID', () => {
    expect(denied(verifyFlowMod(OWN, flowMod({ tableId: 7 }), EMPTY))).toEqual([FMF, OFPFMFC.BAD_TABLE_ID]);
    expect(denied(verifyFlowMod(PHYS, flowMod({ tableId: 8 }), EMPTY))).toEqual([FMF, OFPFMFC.BAD_TABLE_ID]);
  });

  it('flow-mod: table visible but not owned → OFPFMFC_EPERM', () => {
    expect(denied(verifyFlowMod(PHYS, flowMod({ tableId: 0 }), EMPTY))).toEqual([FMF, OFPFMFC.EPERM]);
    expect(denied(verifyFlowMod(CUSTOM, flowMod({ tableId: 3 }), EMPTY))).toEqual([FMF, OFPFMFC.EPERM]);
  });

  it('flow-mod: virtual=false keeps physical ids on owned tables', () => {
    const fm = flowMod({ tableId: 4 });
    expect(accepted(verifyFlowMod(CUSTOM, fm, EMPTY))).toEqual([fm]);
  });

  it('flow-mod: DELETE of OFPTT_ALL is narrowed to one delete per owned table, same xid', () => {
    const fm = flowMod({ tableId: OFPTT.ALL, command: OFPFC.DELETE, instructions: [] });
    const out = accepted(verifyFlowMod(OWN, fm, EMPTY));
    expect(out.map((m) => m.tableId)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const m of out) expect({ ...m, tableId: OFPTT.ALL }).toEqual(fm);
  });

  it('flow-mod: DELETE_STRICT of OFPTT_ALL skips the operator\'s tables of a custom layout', () => {
    const out = accepted(verifyFlowMod(CUSTOM, flowMod({ tableId: OFPTT.ALL, command: OFPFC.DELETE_STRICT }), EMPTY));
    expect(out.map((m) => m.tableId)).toEqual([1, 2, 4, 5, 6, 7]);
  });

  it('flow-mod: ADD / MODIFY to OFPTT_ALL → OFPFMFC_BAD_TABLE_ID', () => {
    expect(denied(verifyFlowMod(OWN, flowMod({ tableId: OFPTT.ALL }), EMPTY))).toEqual([FMF, OFPFMFC.BAD_TABLE_ID]);
    expect(denied(verifyFlowMod(OWN, flowMod({ tableId: OFPTT.ALL, command: OFPFC.MODIFY }), EMPTY))).toEqual([FMF, OFPFMFC.BAD_TABLE_ID]);
  });

  it('flow-mod: DELETE of one table is translated, its instructions left alone', () => {
    const fm = flowMod({ tableId: 2, command: OFPFC.DELETE, instructions: [apply(output(99))] });
    expect(accepted(verifyFlowMod(OWN, fm, EMPTY))).toEqual([{ ...fm, tableId: 3 }]);
  });

  it('flow-mod: unknown command → OFPFMFC_BAD_COMMAND', () => {
    expect(denied(verifyFlowMod(OWN, flowMod({ command: 5 }), EMPTY))).toEqual([FMF, OFPFMFC.BAD_COMMAND]);
  });
});

describe('flow-mod: goto-table', () => {
  it('flow-mod: goto a later own table is translated to physical', () => {
    const [m] = accepted(verifyFlowMod(OWN, flowMod({ tableId: 0, instructions: [apply(output(2)), goto(3)] }), EMPTY));
    expect(m.tableId).toBe(1);
    expect(m.instructions).toEqual([apply(output(2)), goto(4)]);
  });

  it('flow-mod: goto skips over an operator table in a custom layout', () => {
    const own = ownership({ tables: { operator: [0, 3] } });
    const [m] = accepted(verifyFlowMod(own, flowMod({ tableId: 1, instructions: [goto(2)] }), EMPTY));
    expect([m.tableId, (m.instructions[0] as Extract<Instruction, { type: 1 }>).tableId]).toEqual([2, 4]);
  });

  it('flow-mod: goto backwards or to itself → OFPBIC_BAD_TABLE_ID', () => {
    expect(denied(verifyFlowMod(OWN, flowMod({ tableId: 2, instructions: [goto(1)] }), EMPTY))).toEqual([
      OFPET.BAD_INSTRUCTION,
      OFPBIC.BAD_TABLE_ID,
    ]);
    expect(denied(verifyFlowMod(OWN, flowMod({ tableId: 2, instructions: [goto(2)] }), EMPTY))).toEqual([
      OFPET.BAD_INSTRUCTION,
      OFPBIC.BAD_TABLE_ID,
    ]);
  });

  it('flow-mod: goto outside the view → OFPBIC_BAD_TABLE_ID', () => {
    expect(denied(verifyFlowMod(OWN, flowMod({ tableId: 0, instructions: [goto(7)] }), EMPTY))).toEqual([
      OFPET.BAD_INSTRUCTION,
      OFPBIC.BAD_TABLE_ID,
    ]);
  });

  it('flow-mod: goto into an operator table (visible, not owned) → OFPBIC_BAD_TABLE_ID', () => {
    expect(denied(verifyFlowMod(CUSTOM, flowMod({ tableId: 2, instructions: [goto(3)] }), EMPTY))).toEqual([
      OFPET.BAD_INSTRUCTION,
      OFPBIC.BAD_TABLE_ID,
    ]);
    expect(accepted(verifyFlowMod(CUSTOM, flowMod({ tableId: 2, instructions: [goto(4)] }), EMPTY))).toHaveLength(1);
  });
});

describe('flow-mod: outputs, groups, meters, experimenters', () => {
  it('flow-mod: outputs to the instance\'s ports, IN_PORT, CONTROLLER, FLOOD, ALL are allowed (apply and write)', () => {
    const ports = [1, 2, OFPP.IN_PORT, OFPP.CONTROLLER, OFPP.FLOOD, OFPP.ALL];
    const fm = flowMod({ instructions: [apply(...ports.map(output)), write(output(1))] });
    expect(accepted(verifyFlowMod(OWN, fm, EMPTY))).toHaveLength(1);
  });

  it('flow-mod: output to another port (apply) → OFPBAC_BAD_OUT_PORT', () => {
    expect(denied(verifyFlowMod(OWN, flowMod({ instructions: [apply(output(3))] }), EMPTY))).toEqual([OFPET.BAD_ACTION, OFPBAC.BAD_OUT_PORT]);
  });

  it('flow-mod: output to another port (write) → OFPBAC_BAD_OUT_PORT', () => {
    expect(denied(verifyFlowMod(OWN, flowMod({ instructions: [write(output(3))] }), EMPTY))).toEqual([OFPET.BAD_ACTION, OFPBAC.BAD_OUT_PORT]);
  });

  it('flow-mod: output to LOCAL, NORMAL, TABLE or ANY → OFPBAC_BAD_OUT_PORT', () => {
    for (const port of [OFPP.LOCAL, OFPP.NORMAL, OFPP.TABLE, OFPP.ANY]) {
      expect(denied(verifyFlowMod(OWN, flowMod({ instructions: [apply(output(port))] }), EMPTY))).toEqual([
        OFPET.BAD_ACTION,
        OFPBAC.BAD_OUT_PORT,
      ]);
    }
  });

  it('flow-mod: group action to a tenant group is allowed, to an operator group → OFPBAC_BAD_OUT_GROUP', () => {
    expect(accepted(verifyFlowMod(OWN, flowMod({ instructions: [apply(group(5))] }), EMPTY))).toHaveLength(1);
    expect(denied(verifyFlowMod(OWN, flowMod({ instructions: [write(group(0xf0000001))] }), EMPTY))).toEqual([
      OFPET.BAD_ACTION,
      OFPBAC.BAD_OUT_GROUP,
    ]);
  });

  it('flow-mod: meter instruction to a tenant meter is allowed, to an operator or virtual meter → OFPMMFC_INVALID_METER', () => {
    expect(accepted(verifyFlowMod(OWN, flowMod({ instructions: [meter(3), apply(output(1))] }), EMPTY))).toHaveLength(1);
    for (const id of [0xf0000000, OFPM.MAX, OFPM.CONTROLLER, 0]) {
      expect(denied(verifyFlowMod(OWN, flowMod({ instructions: [meter(id)] }), EMPTY))).toEqual([OFPET.METER_MOD_FAILED, OFPMMFC.INVALID_METER]);
    }
  });

  it('flow-mod: experimenter action → OFPBAC_BAD_EXPERIMENTER', () => {
    const nx = { type: OFPAT.EXPERIMENTER, experimenter: 0x2320, data: Buffer.alloc(8) } as const;
    expect(denied(verifyFlowMod(OWN, flowMod({ instructions: [apply(nx)] }), EMPTY))).toEqual([OFPET.BAD_ACTION, OFPBAC.BAD_EXPERIMENTER]);
  });

  it('flow-mod: experimenter instruction → OFPBIC_BAD_EXPERIMENTER', () => {
    const ins = { type: OFPIT.EXPERIMENTER, experimenter: 0x2320, data: Buffer.alloc(8) } as const;
    expect(denied(verifyFlowMod(OWN, flowMod({ instructions: [ins] }), EMPTY))).toEqual([OFPET.BAD_INSTRUCTION, OFPBIC.BAD_EXPERIMENTER]);
  });

  it('flow-mod: MODIFY is checked like ADD', () => {
    expect(denied(verifyFlowMod(OWN, flowMod({ command: OFPFC.MODIFY, instructions: [apply(output(9))] }), EMPTY))).toEqual([
      OFPET.BAD_ACTION,
      OFPBAC.BAD_OUT_PORT,
    ]);
  });
});

describe('flow-mod: cookies and quota', () => {
  it('flow-mod: ADD with a cookie in the operator namespace → OFPFMFC_EPERM; any other cookie is the tenant\'s', () => {
    expect(denied(verifyFlowMod(OWN, flowMod({ cookie: 0x6e76_0000_0000_0001n }), EMPTY))).toEqual([FMF, OFPFMFC.EPERM]);
    expect(accepted(verifyFlowMod(OWN, flowMod({ cookie: 0xffff_ffff_ffff_ffffn }), EMPTY))[0].cookie).toBe(0xffff_ffff_ffff_ffffn);
  });

  it('flow-mod: DELETE whose cookie/cookie_mask select the operator namespace → OFPFMFC_EPERM', () => {
    const sel = { command: OFPFC.DELETE, tableId: OFPTT.ALL, cookie: 0x6e76_0000_0000_0000n, cookieMask: 0xffff_0000_0000_0000n };
    expect(denied(verifyFlowMod(OWN, flowMod(sel), EMPTY))).toEqual([FMF, OFPFMFC.EPERM]);
    // A mask that does not pin the namespace only reaches tenant tables: allowed.
    expect(accepted(verifyFlowMod(OWN, flowMod({ ...sel, cookieMask: 0xffn }), EMPTY))).toHaveLength(7);
  });

  it('flow-mod: ADD beyond the flow quota → OFPFMFC_TABLE_FULL', () => {
    const own = ownership({ quotas: { maxFlows: 2 } });
    expect(accepted(verifyFlowMod(own, flowMod(), { ...EMPTY, flows: 1 }))).toHaveLength(1);
    expect(denied(verifyFlowMod(own, flowMod(), { ...EMPTY, flows: 2 }))).toEqual([FMF, OFPFMFC.TABLE_FULL]);
  });

  it('flow-mod: MODIFY and DELETE at the quota are allowed (they add nothing)', () => {
    const own = ownership({ quotas: { maxFlows: 2 } });
    const full = { ...EMPTY, flows: 2 };
    expect(accepted(verifyFlowMod(own, flowMod({ command: OFPFC.MODIFY }), full))).toHaveLength(1);
    expect(accepted(verifyFlowMod(own, flowMod({ command: OFPFC.DELETE }), full))).toHaveLength(1);
  });

  it('flow-mod: the vNF\'s message object is never mutated', () => {
    const fm = flowMod({ tableId: 0, instructions: [goto(1)] });
    const copy = structuredClone(fm);
    accepted(verifyFlowMod(OWN, fm, EMPTY));
    expect(fm).toEqual(copy);
  });
});
