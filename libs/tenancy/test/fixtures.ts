/** Hand-built ownerships and messages for the tenancy specs. */
import { OFP_NO_BUFFER, OFPAT, OFPCML, OFPFC, OFPG, OFPIT, OFPP, OFPT } from '@nicvisor/openflow';
import type { Action, FlowMod, Instruction, PacketOut } from '@nicvisor/openflow';
import { createOwnership, OwnershipInput, Ownership, Usage } from '../src/model.js';
import type { Verdict } from '../src/policy/result.js';
import type { OfpMessage } from '@nicvisor/openflow';

export function ownership(input: Partial<OwnershipInput> = {}): Ownership {
  const r = createOwnership({ vnf: 'fw1', tenant: 'acme', ports: [1, 2], tableCount: 8, ...input });
  if (!r.ok) throw new Error(`fixture ownership invalid: ${JSON.stringify(r.errors)}`);
  return r.ownership;
}

/** Default layout, T=8: operator [0], tenant [1..7], virtual (view 0..6). */
export const OWN = ownership();
/** Same, physical ids exposed. */
export const PHYS = ownership({ tables: { virtual: false } });
/** Custom interleaved layout: operator [0, 3], tenant [1, 2, 4..7], physical ids exposed. */
export const CUSTOM = ownership({ tables: { operator: [0, 3], virtual: false } });
/** Custom interleaved layout, virtual: view 0,1,2,3,4,5 → physical 1,2,4,5,6,7. */
export const CUSTOM_VIRTUAL = ownership({ tables: { operator: [0, 3] } });

export const EMPTY: Usage = { flows: 0, groups: [], meters: [] };

export const output = (port: number): Action => ({ type: OFPAT.OUTPUT, port, maxLen: OFPCML.NO_BUFFER });
export const group = (groupId: number): Action => ({ type: OFPAT.GROUP, groupId });
export const apply = (...actions: Action[]): Instruction => ({ type: OFPIT.APPLY_ACTIONS, actions });
export const write = (...actions: Action[]): Instruction => ({ type: OFPIT.WRITE_ACTIONS, actions });
export const goto = (tableId: number): Instruction => ({ type: OFPIT.GOTO_TABLE, tableId });
export const meter = (meterId: number): Instruction => ({ type: OFPIT.METER, meterId });

export function flowMod(fields: Partial<FlowMod> = {}): FlowMod {
  return {
    type: OFPT.FLOW_MOD,
    xid: 42,
    cookie: 0n,
    cookieMask: 0n,
    tableId: 0,
    command: OFPFC.ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 100,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [{ field: 'in_port', value: 1 }],
    instructions: [apply(output(2))],
    ...fields,
  };
}

export function packetOut(fields: Partial<PacketOut> = {}): PacketOut {
  return {
    type: OFPT.PACKET_OUT,
    xid: 7,
    bufferId: OFP_NO_BUFFER,
    inPort: 1,
    actions: [output(2)],
    data: Buffer.alloc(60),
    ...fields,
  };
}

/** The accepted messages, failing with the error when denied. */
export function accepted<M extends OfpMessage>(v: Verdict<M> | { ok: false; error: unknown } | { ok: true; messages: M[] }): M[] {
  if (!v.ok) throw new Error(`denied: ${JSON.stringify(v.error)}`);
  return v.messages;
}

/** [type, code] of a denial, failing when accepted. */
export function denied(v: { ok: boolean; error?: { type: number; code: number } }): [number, number] {
  if (v.ok || v.error === undefined) throw new Error('accepted, expected a denial');
  return [v.error.type, v.error.code];
}
