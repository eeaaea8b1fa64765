/**
 * The relay's fast path against the general one, on random flow-mods:
 *  - `wellFormedFlowMod` (codec) says true only for bytes `decodeMessage`
 *    decodes, including damaged encodings; and it says true for the common
 *    shape it exists for;
 *  - `verifyFlowModWire` (tenancy) accepts only what `verifyFlowMod`
 *    accepts, as exactly one message whose encoding is the vNF's bytes with
 *    the translation the fast path gives; and wherever verifyFlowMod accepts
 *    a plain ADD of the shape it follows, it accepts too.
 */
import fc from 'fast-check';
import {
  Action,
  decodeMessage,
  encodeMessage,
  FlowMod,
  FLOW_MOD_AT,
  Instruction,
  OFP_NO_BUFFER,
  OFPAT,
  OFPFC,
  OFPG,
  OFPIT,
  OFPP,
  OFPT,
  OXM_FIELDS,
  OxmField,
  wellFormedFlowMod,
} from '@nicvisor/openflow';
import { Ownership, verifyFlowMod, verifyFlowModWire } from '@nicvisor/tenancy';
import { CUSTOM, CUSTOM_VIRTUAL, flowMod as fixtureFlowMod, ownership, OWN, PHYS } from '../../libs/tenancy/test/fixtures.js';
import { messageArbitraries, oxmFieldOf, u16, u32, u64 } from './arbitraries.js';

const RUNS = Number(process.env.FC_RUNS ?? 300);

/** Damage to an encoding: a byte changed or nudged by a little (a length field off by a few), or the message cut short (its length field following the cut or not). */
const damaged = (raw: Buffer) =>
  fc.oneof(
    fc.record({ at: fc.nat({ max: raw.length - 1 }), by: fc.integer({ min: -16, max: 16 }) }).map(({ at, by }) => {
      const b = Buffer.from(raw);
      b[at] = (b[at] + by) & 0xff;
      return b;
    }),
    fc.record({ at: fc.nat({ max: raw.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }).map(({ at, value }) => {
      const b = Buffer.from(raw);
      b[at] = value;
      return b;
    }),
    fc.record({ len: fc.nat({ max: raw.length }), fix: fc.boolean() }).map(({ len, fix }) => {
      const b = Buffer.from(raw.subarray(0, len));
      if (fix && len >= 4) b.writeUInt16BE(len, 2);
      return b;
    }),
  );

function decodes(raw: Buffer): boolean {
  try {
    decodeMessage(raw);
    return true;
  } catch {
    return false;
  }
}

// ---- Flow-mods shaped for the policy: tables, ports, groups, meters and cookies near its boundaries ----

const tableId = fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constant(0xff));
const port = fc.constantFrom(1, 2, 3, 16, OFPP.IN_PORT, OFPP.CONTROLLER, OFPP.FLOOD, OFPP.ALL, OFPP.TABLE, OFPP.LOCAL, OFPP.ANY);
const groupId = fc.constantFrom(0, 1, 7, 0xefffffff, 0xf0000000, OFPG.MAX, OFPG.ALL, OFPG.ANY);
const meterId = fc.constantFrom(0, 1, 5, 0xefffffff, 0xf0000000, 0xffff0000, 0xffffffff);
const cookie = fc.oneof(fc.constant(0n), u64, fc.constant(0x6e76_0000_0000_0001n));

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant(OFPAT.OUTPUT), port, maxLen: u16 }) },
  fc.record({ type: fc.constant(OFPAT.GROUP), groupId }),
  fc.record({ type: fc.constant(OFPAT.POP_VLAN) }),
  fc.record({ type: fc.constant(OFPAT.PUSH_VLAN), ethertype: fc.constant(0x8100) }),
  fc.record({ type: fc.constant(OFPAT.SET_FIELD), field: fc.constant<OxmField>({ field: 'vlan_vid', value: 0x1005 }) }),
  fc.record({ type: fc.constant(OFPAT.EXPERIMENTER), experimenter: u32, data: fc.constant(Buffer.alloc(8)) }),
);
const actions = fc.array(action, { maxLength: 3 });
const instruction: fc.Arbitrary<Instruction> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constantFrom(OFPIT.APPLY_ACTIONS, OFPIT.WRITE_ACTIONS), actions }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant(OFPIT.GOTO_TABLE), tableId }) },
  fc.record({ type: fc.constant(OFPIT.METER), meterId }),
  fc.record({ type: fc.constant(OFPIT.WRITE_METADATA), metadata: u64, metadataMask: u64 }),
  fc.record({ type: fc.constant(OFPIT.CLEAR_ACTIONS), actions: fc.constant<Action[]>([]) }),
  fc.record({ type: fc.constant(OFPIT.EXPERIMENTER), experimenter: u32, data: fc.constant(Buffer.alloc(0)) }),
);
const match = fc.array(fc.constantFrom(...OXM_FIELDS).chain(oxmFieldOf), { maxLength: 4 });

const flowMod: fc.Arbitrary<FlowMod> = fc.record({
  type: fc.constant(OFPT.FLOW_MOD),
  xid: u32,
  cookie,
  cookieMask: fc.constant(0n),
  tableId,
  command: fc.oneof({ weight: 4, arbitrary: fc.constant(OFPFC.ADD) }, fc.integer({ min: 1, max: 5 })),
  idleTimeout: u16,
  hardTimeout: u16,
  priority: u16,
  bufferId: fc.constant(OFP_NO_BUFFER),
  outPort: fc.constant(OFPP.ANY),
  outGroup: fc.constant(OFPG.ANY),
  flags: u16,
  match,
  instructions: fc.array(instruction, { maxLength: 3 }),
});

const QUOTA = ownership({ quotas: { maxFlows: 10 } });
const owners: Ownership[] = [OWN, PHYS, CUSTOM, CUSTOM_VIRTUAL, QUOTA];

/** The vNF's bytes with the fast path's translation applied. */
function translated(raw: Buffer, tableId: number, gotos: readonly number[]): Buffer {
  const out = Buffer.from(raw);
  out[FLOW_MOD_AT.tableId] = tableId;
  for (let i = 0; i < gotos.length; i += 2) out[gotos[i]] = gotos[i + 1];
  return out;
}

/** Does the fast path follow this flow-mod's shape (no set-field or experimenter action, no experimenter instruction)? */
function followed(fm: FlowMod): boolean {
  return fm.instructions.every(
    (i) => i.type !== OFPIT.EXPERIMENTER && (!('actions' in i) || i.actions.every((a) => a.type !== OFPAT.SET_FIELD && a.type !== OFPAT.EXPERIMENTER)),
  );
}

describe('verifyFlowModWire', () => {
  it('accepts only what verifyFlowMod accepts, with the same bytes, and every plain ADD it follows', () => {
    let fast = 0;
    fc.assert(
      fc.property(flowMod, fc.constantFrom(...owners), fc.integer({ min: 0, max: 12 }), (fm, own, flows) => {
        const raw = encodeMessage(fm);
        const usage = { flows, groups: [], meters: [] };
        const wire = verifyFlowModWire(own, raw, usage);
        const general = verifyFlowMod(own, decodeMessage(raw) as FlowMod, usage);
        if (wire !== null) {
          fast++;
          expect(general.ok).toBe(true);
          if (!general.ok) return;
          expect(general.messages).toHaveLength(1);
          expect(translated(raw, wire.tableId, wire.gotos)).toEqual(encodeMessage(general.messages[0]));
        } else if (general.ok && fm.command === OFPFC.ADD && followed(fm)) {
          throw new Error(`the fast path declined an ADD verifyFlowMod accepts: ${JSON.stringify(fm, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
        }
      }),
      { numRuns: RUNS * 4 },
    );
    // The generator is shaped so that a fair share is accepted: the property is not vacuous.
    expect(fast).toBeGreaterThan(RUNS / 4);
  });

  it('declines what verifyFlowMod denies, whatever the reason', () => {
    const raw = (fields: Partial<FlowMod>) => encodeMessage(fixtureFlowMod({ xid: 9, ...fields }));
    const empty = { flows: 0, groups: [], meters: [] };
    expect(verifyFlowModWire(OWN, raw({}), empty)).toEqual({ tableId: 1, gotos: [] });
    expect(verifyFlowModWire(OWN, raw({ tableId: 7 }), empty)).toBeNull(); // outside the view
    expect(verifyFlowModWire(PHYS, raw({ tableId: 0 }), empty)).toBeNull(); // the operator's
    expect(verifyFlowModWire(OWN, raw({ cookie: 0x6e76_0000_0000_0001n }), empty)).toBeNull(); // operator cookie
    expect(verifyFlowModWire(QUOTA, raw({}), { ...empty, flows: 10 })).toBeNull(); // quota
    expect(verifyFlowModWire(OWN, raw({ instructions: [{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.OUTPUT, port: 3, maxLen: 0 }] }] }), empty)).toBeNull();
    expect(verifyFlowModWire(OWN, raw({ instructions: [{ type: OFPIT.GOTO_TABLE, tableId: 0 }] }), empty)).toBeNull(); // not forward
    expect(verifyFlowModWire(OWN, raw({ instructions: [{ type: OFPIT.METER, meterId: 0xf0000000 }] }), empty)).toBeNull();
    expect(verifyFlowModWire(OWN, raw({ command: OFPFC.MODIFY }), empty)).toBeNull(); // not an ADD: the general path
    // A goto within the first 64 bytes is translated too: view 2 is physical 3.
    const g = raw({ match: [], instructions: [{ type: OFPIT.GOTO_TABLE, tableId: 2 }] });
    expect(verifyFlowModWire(OWN, g, empty)).toEqual({ tableId: 1, gotos: [FLOW_MOD_AT.match + 8 + 4, 3] });
  });
});

describe('wellFormedFlowMod', () => {
  it('is true only for flow-mods the decoder takes, intact or damaged', () => {
    const encoded = messageArbitraries[OFPT.FLOW_MOD]!.map((m) => encodeMessage(m));
    let vouched = 0;
    fc.assert(
      fc.property(
        fc.oneof(encoded, flowMod.map((m) => encodeMessage(m))).chain((raw) => fc.oneof(fc.constant(raw), damaged(raw))),
        (raw) => {
          if (!wellFormedFlowMod(raw)) return true;
          vouched++;
          return decodes(raw);
        },
      ),
      { numRuns: RUNS * 4 },
    );
    expect(vouched).toBeGreaterThan(RUNS / 4);
  });

  it('is true only for flow-mods the decoder takes, for every single-byte change of one using every structure it follows', () => {
    const raw = encodeMessage({
      type: OFPT.FLOW_MOD,
      xid: 1,
      cookie: 5n,
      cookieMask: 0n,
      tableId: 1,
      command: OFPFC.ADD,
      idleTimeout: 0,
      hardTimeout: 0,
      priority: 7,
      bufferId: OFP_NO_BUFFER,
      outPort: OFPP.ANY,
      outGroup: OFPG.ANY,
      flags: 0,
      match: [
        { field: 'eth_type', value: 0x0800 },
        { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.0.0.0' },
        { field: 'metadata', value: 1n },
      ],
      instructions: [
        { type: OFPIT.METER, meterId: 1 },
        { type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.POP_VLAN }, { type: OFPAT.GROUP, groupId: 1 }, { type: OFPAT.OUTPUT, port: 2, maxLen: 0 }] },
        { type: OFPIT.CLEAR_ACTIONS, actions: [] },
        { type: OFPIT.WRITE_ACTIONS, actions: [{ type: OFPAT.SET_QUEUE, queueId: 1 }] },
        { type: OFPIT.WRITE_METADATA, metadata: 1n, metadataMask: 1n },
        { type: OFPIT.GOTO_TABLE, tableId: 2 },
      ],
    });
    expect(wellFormedFlowMod(raw)).toBe(true);
    const b = Buffer.from(raw);
    for (let at = 0; at < b.length; at++) {
      for (let v = 0; v < 256; v++) {
        b[at] = v;
        if (wellFormedFlowMod(b) && !decodes(b)) throw new Error(`byte ${at} = ${v}: vouched for, but the decoder refuses it`);
      }
      b[at] = raw[at];
    }
  });
});
