/**
 * The relay's hot path without sockets: the shadow's keys and records made
 * from bytes agree with the decoded ones (and with libs/storage's records),
 * a flow-mod whose table ids the policy rewrote is sent as the vNF's bytes
 * patched (and errors give the vNF its own bytes back), and the NIC
 * session's one-way messages are confirmed, refused or lost in order.
 */
import { decodeMessage, encodeMessage, FlowMod, Match, OFPET, OFPFC, OFPFMFC, OFPG, OFPIT, OFPP, OFPT, OFPTT } from '@nicvisor/openflow';
import { canonicalMatch, shadowFlowOf as storeShadowFlowOf } from '@nicvisor/storage/flow-key.js';
import { createOwnership, Ownership, verifyFlowMod, verifyFlowModWire } from '@nicvisor/tenancy';
import type { DelegatedConnection } from './delegated-connection.js';
import { NicSession, OnewaySink } from './nic-session.js';
import { Relayed } from './relayed.js';
import { FlowEntry, flowKey, rawFlowKey, Shadow, ShadowSink } from './shadow.js';

function flowMod(over: Partial<FlowMod> = {}): FlowMod {
  return {
    type: OFPT.FLOW_MOD,
    xid: 7,
    cookie: 0x1234n,
    cookieMask: 0n,
    tableId: 0,
    command: OFPFC.ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 100,
    bufferId: 0xffffffff,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [
      { field: 'ipv4_dst', value: '10.0.0.1' },
      { field: 'eth_type', value: 0x800 },
    ],
    instructions: [{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: 0, port: 2, maxLen: 0 }] }],
    ...over,
  };
}

const MATCHES: Array<[string, Match]> = [
  ['empty', []],
  ['unsorted fields', [{ field: 'tcp_dst', value: 80 }, { field: 'ip_proto', value: 6 }, { field: 'eth_type', value: 0x800 }, { field: 'in_port', value: 3 }]],
  ['a partial mask (value bits outside it)', [{ field: 'eth_type', value: 0x800 }, { field: 'ipv4_dst', value: '10.0.0.7', mask: '255.255.255.0' }]],
  ['an all-ones mask', [{ field: 'eth_type', value: 0x800 }, { field: 'ipv4_src', value: '10.0.0.7', mask: '255.255.255.255' }]],
  ['a zero mask', [{ field: 'eth_type', value: 0x800 }, { field: 'ipv4_src', value: '10.0.0.0', mask: '0.0.0.0' }]],
  ['only a zero mask', [{ field: 'metadata', value: 0n, mask: 0n }]],
  ['an opaque TLV', [{ oxmClass: 0xffff, field: 3, hasMask: false, payload: Buffer.from([0, 0, 0x23, 0x20, 1, 2, 3, 4]) }, { field: 'in_port', value: 1 }]],
];

describe('shadow keys and records from bytes', () => {
  it.each(MATCHES)('%s: the key from bytes equals the decoded one, whatever the field order', (_, match) => {
    const raw = encodeMessage(flowMod({ match, tableId: 5, priority: 300 }));
    // The key: table, priority, then libs/storage's canonical match.
    expect(Buffer.from(rawFlowKey(raw), 'latin1')).toEqual(Buffer.concat([Buffer.from([5, 300 >> 8, 300 & 255]), canonicalMatch(match)]));
    expect(rawFlowKey(raw)).toBe(flowKey(5, 300, match));
    expect(flowKey(5, 300, [...match].reverse())).toBe(flowKey(5, 300, match));
  });

  it('a confirmed ADD: the entry reads back as the flow, and the sink gets libs/storage\'s record bytes in a row that stays the flow\'s', () => {
    const puts: FlowEntry[] = [];
    const deletes: FlowEntry[] = [];
    let rows = 0;
    const sink: ShadowSink = {
      flowPut: (_d, f) => {
        if (f.rowId === 0) f.rowId = ++rows;
        puts.push(f);
      },
      flowDelete: (_d, f) => deletes.push(f),
      groupPut: () => undefined,
      groupDelete: () => undefined,
      meterPut: () => undefined,
      meterDelete: () => undefined,
      clear: () => undefined,
      flush: () => undefined,
    };
    const shadow = new Shadow(sink);
    // As relayed: a buffer id, a cookie mask and out_port set on the ADD (all ignored by an ADD, normalised in the record).
    const fm = flowMod({ tableId: 1, bufferId: 9, cookieMask: 0xffn, outPort: 3, xid: 99, match: MATCHES[1][1] });
    shadow.applyFlowAdd(1n, encodeMessage(fm), 'fw1');
    const [v] = shadow.flows(1n);
    expect(v).toEqual({ key: flowKey(1, 100, fm.match), owner: 'fw1', tableId: 1, priority: 100, cookie: 0x1234n, idleTimeout: 0, hardTimeout: 0, flags: 0, match: fm.match, instructions: fm.instructions });
    const rec = storeShadowFlowOf('fw1', 1, 'acme', fm);
    expect(puts).toHaveLength(1);
    expect(puts[0].raw).toEqual(rec.flowMod);
    expect(puts[0].rowId).toBe(1);
    expect(shadow.flowCount(1n, 'fw1')).toBe(1);
    expect(shadow.ownerOfFlow(1n, 1, 100, [...fm.match].reverse())).toBe('fw1');
    // The same flow (its fields in another order) added again replaces it in its row; another flow gets a row of its own.
    shadow.applyFlowAdd(1n, encodeMessage({ ...fm, match: [...fm.match].reverse(), cookie: 7n }), 'fw1');
    shadow.applyFlowAdd(1n, encodeMessage({ ...fm, priority: 5 }), 'fw1');
    expect(puts.map((f) => f.rowId)).toEqual([1, 1, 2]);
    expect(shadow.flowCount(1n, 'fw1')).toBe(2);
    shadow.applyFlowMod(1n, flowMod({ command: OFPFC.DELETE_STRICT, tableId: 1, priority: 100, match: fm.match }), 'fw1');
    expect(deletes.map((f) => f.rowId)).toEqual([1]);
  });

  it('MODIFY and non-strict DELETE select from the encoded entries', () => {
    const shadow = new Shadow();
    const a = flowMod({ tableId: 1, match: [{ field: 'eth_type', value: 0x800 }, { field: 'ipv4_dst', value: '10.0.0.1' }] });
    const b = flowMod({ tableId: 1, match: [{ field: 'eth_type', value: 0x800 }, { field: 'ipv4_dst', value: '10.0.1.1' }] });
    const c = flowMod({ tableId: 2, match: [{ field: 'eth_type', value: 0x800 }, { field: 'ipv4_dst', value: '10.0.0.2' }], instructions: [{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: 0, port: 5, maxLen: 0 }] }] });
    for (const fm of [a, b, c]) shadow.applyFlowMod(1n, fm, 'fw1');
    const wide = [{ field: 'eth_type', value: 0x800 }, { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.255.255.0' }] as Match;
    shadow.applyFlowMod(1n, flowMod({ command: OFPFC.MODIFY, tableId: OFPTT.ALL, match: wide, instructions: [] }), 'fw1');
    const byKey = new Map(shadow.flows(1n).map((f) => [f.key, f]));
    expect(byKey.get(flowKey(1, 100, a.match))!.instructions).toEqual([]);
    expect(byKey.get(flowKey(1, 100, b.match))!.instructions).toEqual(b.instructions);
    expect(byKey.get(flowKey(2, 100, c.match))!.instructions).toEqual([]);
    // A delete filtered by out_port: only the flow that outputs to 2 (b; a and c lost their actions).
    shadow.applyFlowMod(1n, flowMod({ command: OFPFC.DELETE, tableId: OFPTT.ALL, match: [], outPort: 2 }), 'fw1');
    expect(shadow.flows(1n).map((f) => f.key).sort()).toEqual([flowKey(1, 100, a.match), flowKey(2, 100, c.match)].sort());
    shadow.applyFlowMod(1n, flowMod({ command: OFPFC.DELETE, tableId: 1, match: wide }), 'fw1');
    expect(shadow.flows(1n).map((f) => f.key)).toEqual([flowKey(2, 100, c.match)]);
    expect(shadow.flowCount(1n, 'fw1')).toBe(1);
  });
});

describe('Relayed: encode once', () => {
  const own: Ownership = (() => {
    const r = createOwnership({ vnf: 'fw1', tenant: 'acme', ports: [1, 2], tableCount: 8 });
    if (!r.ok) throw new Error('ownership');
    return r.ownership;
  })();
  const conn = {} as DelegatedConnection;

  function relayed(vnf: FlowMod, physical?: FlowMod): { r: Relayed; raw: Buffer; phys: FlowMod } {
    const raw = encodeMessage(vnf);
    const dec = decodeMessage(raw) as FlowMod;
    const v = verifyFlowMod(own, dec, { flows: 0 });
    if (!v.ok) throw new Error(v.error.reason);
    const phys = physical ?? (v.messages[0] as FlowMod);
    return { r: Relayed.of(conn, dec, dec.xid, raw, phys, undefined), raw, phys };
  }

  it('table and goto-table ids rewritten by the policy: the vNF\'s bytes, patched, equal the encoded physical message', () => {
    const vnf = flowMod({ tableId: 0, instructions: [{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: 0, port: 2, maxLen: 0 }] }, { type: OFPIT.GOTO_TABLE, tableId: 2 }] });
    const { r, raw, phys } = relayed(vnf);
    expect(phys.tableId).toBe(1);
    expect(phys.instructions[1]).toEqual({ type: OFPIT.GOTO_TABLE, tableId: 3 });
    expect(r.out).toEqual(encodeMessage(phys));
    expect(r.flowAdd).toBe(true);
    expect(r.msg).toBeUndefined();
    // The session writes its xid; an error still gives the vNF its own bytes.
    r.out.writeUInt32BE(0xabcdef, 4);
    expect(r.vnfBytes()).toEqual(raw.subarray(0, 64));
  });

  it('a goto within the first 64 bytes is restored in the error data too', () => {
    const vnf = flowMod({ match: [], instructions: [{ type: OFPIT.GOTO_TABLE, tableId: 1 }] });
    const { r, raw } = relayed(vnf);
    r.out.writeUInt32BE(1, 4);
    expect(r.out[60]).toBe(2);
    expect(r.vnfBytes()).toEqual(raw);
  });

  it('accepted on its bytes (verifyFlowModWire): the same patched bytes and error data as through the decoded policy', () => {
    for (const vnf of [
      flowMod({ tableId: 0, instructions: [{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: 0, port: 2, maxLen: 0 }] }, { type: OFPIT.GOTO_TABLE, tableId: 2 }] }),
      flowMod({ match: [], instructions: [{ type: OFPIT.GOTO_TABLE, tableId: 1 }] }),
    ]) {
      const { r: general, raw } = relayed(vnf);
      const accept = verifyFlowModWire(own, raw, { flows: 0 });
      expect(accept).not.toBeNull();
      const r = Relayed.ofWire(conn, vnf.xid, raw, accept!);
      expect(r.out).toEqual(general.out);
      expect(r.flowAdd).toBe(true);
      r.out.writeUInt32BE(0xabcdef, 4);
      expect(r.vnfBytes()).toEqual(raw.subarray(0, 64));
    }
  });

  it('anything else the policy changed is encoded from its message, and the vNF\'s bytes kept for errors', () => {
    const vnf = flowMod({ command: OFPFC.DELETE, tableId: OFPTT.ALL, match: [], instructions: [] });
    const raw = encodeMessage(vnf);
    const dec = decodeMessage(raw) as FlowMod;
    const phys: FlowMod = { ...dec, tableId: 3, cookie: 5n };
    const r = Relayed.of(conn, dec, dec.xid, raw, phys, undefined);
    expect(r.out).toEqual(encodeMessage(phys));
    expect(r.msg).toBe(phys);
    r.out.writeUInt32BE(1, 4);
    expect(r.vnfBytes()).toEqual(raw);
  });
});

describe('NicSession one-way messages', () => {
  function session(): { s: NicSession; sent: Buffer[] } {
    const sent: Buffer[] = [];
    const s = new NicSession({ send: (b) => sent.push(Buffer.from(b)), end: () => undefined, close: () => undefined });
    return { s, sent };
  }
  const events: string[] = [];
  const sink: OnewaySink<string> = {
    confirmed: (t) => events.push(`ok ${t}`),
    failed: (t, e) => events.push(`err ${t} ${'code' in e ? e.code : -1}`),
    lost: (t) => events.push(`lost ${t}`),
  };
  beforeEach(() => (events.length = 0));

  it('a barrier reply confirms what was sent before it, in order, except what failed; an error finds its message by xid', async () => {
    const { s, sent } = session();
    const xids = ['a', 'b', 'c'].map((t) => s.sendOneway(encodeMessage(flowMod()), sink, t));
    const done = s.barrier();
    s.sendOneway(encodeMessage(flowMod()), sink, 'd');
    s.receive(encodeMessage({ type: OFPT.ERROR, xid: xids[1], errorType: OFPET.FLOW_MOD_FAILED, code: OFPFMFC.TABLE_FULL, data: Buffer.alloc(0) }));
    s.receive(encodeMessage({ type: OFPT.BARRIER_REPLY, xid: sent[3].readUInt32BE(4) }));
    await done;
    expect(events).toEqual([`err b ${OFPFMFC.TABLE_FULL}`, 'ok a', 'ok c']);
    s.closed_('gone');
    expect(events).toEqual([`err b ${OFPFMFC.TABLE_FULL}`, 'ok a', 'ok c', 'lost d']);
  });

  it('many in flight across barriers: each confirmed once, in order', async () => {
    const { s, sent } = session();
    const want: string[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 700; i++) {
        s.sendOneway(encodeMessage(flowMod()), sink, `${round}.${i}`);
        want.push(`ok ${round}.${i}`);
      }
      const b = s.barrier();
      s.receive(encodeMessage({ type: OFPT.BARRIER_REPLY, xid: sent[sent.length - 1].readUInt32BE(4) }));
      await b;
    }
    expect(events).toEqual(want);
  });
});
